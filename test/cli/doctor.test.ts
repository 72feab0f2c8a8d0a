import Long from 'long';
import { randomUUID } from 'node:crypto';
import { doctorCommand, runDoctor, type DoctorReport } from '../../src/cli/doctor';
import { formatReport } from '../../src/cli/doctor/report';
import { salesforceSetupCommand } from '../../src/cli/salesforce-setup';
import { loadConfig } from '../../src/config';
import { startStack, type Stack } from '../helpers/stack';
import { uniqueTaskQueue } from '../helpers/temporal';

// `clerk-sync doctor` (issue 14) against the sandbox and the run's Temporal: each misconfiguration is named on its
// line and fails the run (exit 1); everything right passes (exit 0).

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  stack.sandbox.services.salesforce.setStrict(false);
  stack.sandbox.services.resend.setDomain('acme.test', 'verified');
});

/** The stack's environment, as the api and worker read it, with `overrides`. */
function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.sandbox.env,
    CLERK_WEBHOOK_SIGNING_SECRET: stack.secret,
    TEMPORAL_ADDRESS: stack.env.address,
    TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
    WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>',
    ...overrides,
  };
}

const line = (report: DoctorReport, id: string) => {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
};
const failed = (report: DoctorReport) => report.checks.filter((c) => c.status === 'fail').map((c) => c.id);

/** Doctor until the workers poll (they start polling a moment after the stack is up), at most 20 s. */
async function doctorOnceWorkersPoll(e: Record<string, string>): Promise<DoctorReport> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const report = await runDoctor(e);
    const pollers = report.checks.filter((c) => c.id.startsWith('temporal.pollers.'));
    if (pollers.every((c) => c.status === 'ok') || Date.now() > deadline) return report;
    await new Promise((r) => setTimeout(r, 500));
  }
}

it('passes every check when everything is right, in seconds, and exits 0', async () => {
  // As an operator does once against a new org: the custom fields and the permission set (force-app/).
  expect(await salesforceSetupCommand({ config: stack.config, out: () => undefined })).toBe(0);
  const report = await doctorOnceWorkersPoll(env());
  console.log(formatReport(report).join('\n'));
  expect(failed(report)).toEqual([]);
  expect(report.ok).toBe(true);
  const queue = stack.config.temporal.taskQueue;
  expect(report.checks.map((c) => c.id)).toEqual(
    expect.arrayContaining([
      'config',
      'temporal.connection',
      'temporal.namespace',
      'temporal.search-attributes',
      `temporal.pollers.${queue}`,
      `temporal.pollers.${queue}-email`,
      'salesforce.token',
      'salesforce.api-version',
      'salesforce.setup',
      'salesforce.fields',
      'salesforce.api-usage',
      'clerk.key',
      'resend.domain',
      'slack.url',
      'keys.signing-secret',
      'keys.encryption',
      'codec.server',
    ]),
  );
  expect(line(report, 'clerk.key').detail).toMatch(/development instance/);
  expect(report.ms).toBeLessThan(10_000);

  const lines: string[] = [];
  expect(await doctorCommand({ env: env() }, (l) => lines.push(l))).toBe(0);
  expect(lines.at(-1)).toMatch(/^doctor: \d+ ok/);
  const json: string[] = [];
  expect(await doctorCommand({ env: env(), json: true }, (l) => json.push(l))).toBe(0);
  expect(JSON.parse(json.join('\n'))).toMatchObject({ ok: true, counts: { fail: 0 } });
});

it('names a wrong Salesforce client secret as invalid_client, and exits 1', async () => {
  const lines: string[] = [];
  const code = await doctorCommand({ env: env({ SALESFORCE_CLIENT_SECRET: 'not-the-secret' }) }, (l) =>
    lines.push(l),
  );
  console.log(lines.join('\n'));
  expect(code).toBe(1);
  const report = await runDoctor(env({ SALESFORCE_CLIENT_SECRET: 'not-the-secret' }));
  expect(line(report, 'salesforce.token')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(
      /^invalid_client: .*check SALESFORCE_CLIENT_ID \/ SALESFORCE_CLIENT_SECRET/,
    ),
  });
  expect(line(report, 'salesforce.setup').status).toBe('skip');
});

it('names a wrong Salesforce login URL as such', async () => {
  const report = await runDoctor(env({ SALESFORCE_LOGIN_URL: `${stack.sandbox.url}/nowhere` }));
  console.log(formatReport(report).join('\n'));
  expect(line(report, 'salesforce.token')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/^wrong login URL: no OAuth token endpoint at/),
    fix: expect.stringMatching(/SALESFORCE_LOGIN_URL/),
  });
});

it('names a sender domain Resend has not verified, and exits 1', async () => {
  stack.sandbox.services.resend.setDomain('acme.test', 'pending');
  const lines: string[] = [];
  expect(await doctorCommand({ env: env() }, (l) => lines.push(l))).toBe(1);
  console.log(lines.join('\n'));
  const report = await runDoctor(env());
  expect(line(report, 'resend.domain')).toMatchObject({
    status: 'fail',
    detail: 'the key works, but acme.test is pending: Resend refuses to send from it',
  });
});

it('names the missing custom fields (strict org, before `salesforce setup`), and exits 1', async () => {
  stack.sandbox.services.salesforce.reset(); // whatever an earlier test set up
  stack.sandbox.services.salesforce.setStrict(true);
  const lines: string[] = [];
  expect(await doctorCommand({ env: env() }, (l) => lines.push(l))).toBe(1);
  console.log(lines.join('\n'));
  const report = await runDoctor(env());
  expect(line(report, 'salesforce.setup')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/missing CustomObject Clerk_Membership__c/),
    fix: expect.stringMatching(/clerk-sync salesforce setup/),
  });
  expect(line(report, 'salesforce.fields')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/cannot read .*Contact\.Clerk_User_Id__c/),
  });
});

it('names the search attributes a namespace lacks, and exits 1', async () => {
  const namespace = `doctor-${randomUUID().slice(0, 8)}`;
  await stack.env.connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(24 * 60 * 60) }, // one day
  });
  const deadline = Date.now() + 20_000;
  let report = await runDoctor(env({ TEMPORAL_NAMESPACE: namespace }));
  while (line(report, 'temporal.namespace').status !== 'ok' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    report = await runDoctor(env({ TEMPORAL_NAMESPACE: namespace }));
  }
  console.log(formatReport(report).join('\n'));
  expect(report.ok).toBe(false);
  expect(line(report, 'temporal.search-attributes')).toMatchObject({
    status: 'fail',
    detail: `missing in ${namespace}: ClerkEventType, ClerkUserId, ClerkOrganizationId, ClerkMessageId`,
    fix: expect.stringMatching(/clerk-sync temporal-setup/),
  });
});

it('names a task queue no worker polls (the worker stopped or never started), and exits 1', async () => {
  const queue = uniqueTaskQueue('unpolled');
  const lines: string[] = [];
  expect(await doctorCommand({ env: env({ TEMPORAL_TASK_QUEUE: queue }) }, (l) => lines.push(l))).toBe(1);
  console.log(lines.join('\n'));
  const report = await runDoctor(env({ TEMPORAL_TASK_QUEUE: queue }));
  expect(line(report, `temporal.pollers.${queue}`)).toMatchObject({
    status: 'fail',
    detail: 'no worker polling',
    fix: expect.stringMatching(/clerk-sync worker/),
  });
  expect(line(report, `temporal.pollers.${queue}-email`).status).toBe('fail');
});

it('names a configuration that does not parse, and runs nothing else', async () => {
  const report = await runDoctor(env({ SALESFORCE_API_VERSION: 'latest' }));
  expect(report.ok).toBe(false);
  expect(report.checks).toEqual([
    expect.objectContaining({
      id: 'config',
      status: 'fail',
      detail: 'SALESFORCE_API_VERSION: must look like 62.0',
    }),
  ]);
});

it('warns above 80% of the day’s Salesforce API requests', async () => {
  const salesforce = stack.sandbox.services.salesforce;
  const { max } = salesforce.apiUsage();
  salesforce.setApiUsage(Math.ceil(max * 0.9));
  try {
    const report = await runDoctor(loadConfig(env()));
    expect(line(report, 'salesforce.api-usage')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^\d+ of \d+ requests today \(9\d%\): above 80%/),
    });
  } finally {
    salesforce.setApiUsage(0);
  }
});
