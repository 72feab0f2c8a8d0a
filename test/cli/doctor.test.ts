import Long from 'long';
import pino from 'pino';
import { randomBytes, randomUUID } from 'node:crypto';
import { doctorCommand, runDoctor, type DoctorReport } from '../../src/cli/doctor';
import { formatReport } from '../../src/cli/doctor/report';
import { taskQueuesOf } from '../../src/cli/doctor/temporal';
import { POLLER_FRESH_MS } from '../../src/cli/doctor/workers';
import { salesforceSetupCommand } from '../../src/cli/salesforce-setup';
import { salesforceSession } from '../../src/clients';
import { loadConfig } from '../../src/config';
import { Supervised } from '../faults/processes';
import { startTestApi } from '../helpers/api';
import { freePort } from '../helpers/net';
import { OPERATOR_API_KEY, startStack, type Stack } from '../helpers/stack';
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

it('names a field whose edit access was taken away (field-level security), and exits 1', async () => {
  expect(await salesforceSetupCommand({ config: stack.config, out: () => undefined })).toBe(0);
  // An admin unticks "Edit" on one field of the Clerk_Sync permission set (Setup, or a deploy of an edited copy).
  // A session of its own: an earlier test's reset may have ended the stack's, which cannot be refreshed.
  const { metadata } = await salesforceSession(
    stack.config.salesforce!,
    pino({ level: 'silent' }),
  ).connection();
  const set = (await metadata.read('PermissionSet', 'Clerk_Sync')) as unknown as Record<string, unknown> & {
    fieldPermissions: { field: string }[];
  };
  const fieldPermissions = set.fieldPermissions.map((p) =>
    p.field === 'Contact.Clerk_Status__c' ? { ...p, readable: true, editable: false } : p,
  );
  await metadata.upsert('PermissionSet', { ...set, fullName: 'Clerk_Sync', fieldPermissions });

  const lines: string[] = [];
  expect(await doctorCommand({ env: env() }, (l) => lines.push(l))).toBe(1);
  console.log(lines.join('\n'));
  const report = await runDoctor(env());
  expect(line(report, 'salesforce.fields')).toMatchObject({
    status: 'fail',
    detail: 'cannot edit Contact.Clerk_Status__c',
    fix: expect.stringMatching(/clerk-sync salesforce setup/),
  });
  expect(line(report, 'salesforce.setup')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/^different PermissionSet Clerk_Sync/),
  });

  // What doctor says to do puts it right.
  expect(await salesforceSetupCommand({ config: stack.config, out: () => undefined })).toBe(0);
  expect(line(await runDoctor(env()), 'salesforce.fields').status).toBe('ok');
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

it('names a task queue no worker ever polled, and exits 1', async () => {
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

it('names a worker that has just stopped (SIGTERM), with when it stopped and last polled, and exits 1', async () => {
  // A real `clerk-sync worker` process on a queue of its own: doctor passes while it runs, then, the moment it has
  // shut down gracefully, names every queue it polled, long before its last poll is POLLER_FRESH_MS old.
  const queue = uniqueTaskQueue('stopped');
  const e = env({ TEMPORAL_TASK_QUEUE: queue });
  const queues = taskQueuesOf(queue);
  const worker = new Supervised(
    'worker',
    { ...e, LOG_LEVEL: 'info', NODE_ENV: 'production' },
    /worker polling/,
  );
  try {
    await worker.start();
    const running = await doctorOnceWorkersPoll(e);
    for (const q of queues) {
      expect(line(running, `temporal.pollers.${q}`)).toMatchObject({
        status: 'ok',
        detail: expect.stringMatching(/^1 worker polling \(\d+@\S+(, build \S+)?\)$/),
      });
    }

    await worker.stop(); // SIGTERM: the SDK shuts the workers down gracefully, then the process exits
    const stopped = Date.now();
    const lines: string[] = [];
    expect(await doctorCommand({ env: e }, (l) => lines.push(l))).toBe(1);
    console.log(lines.join('\n'));
    const report = await runDoctor(e);
    for (const q of queues) {
      expect(line(report, `temporal.pollers.${q}`)).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(
          /^no worker polling: \d+@\S+ shut down \d+ s ago \(\S+Z\), after its last poll \d+ s ago \(\S+Z\)$/,
        ),
        fix: expect.stringMatching(/clerk-sync worker/),
      });
    }
    expect(Date.now() - stopped).toBeLessThan(POLLER_FRESH_MS / 3);
  } finally {
    await worker.stop();
  }
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

describe('the codec server check, with encryption on', () => {
  const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
  /** An API with its codec server holding `apiKey`, as `clerk-sync api` serves it. */
  async function apiWithKey(apiKey: string) {
    return startTestApi({
      client: stack.client,
      taskQueue: stack.config.temporal.taskQueue,
      secrets: [stack.secret],
      operatorApiKey: OPERATOR_API_KEY,
      codec: { keys: loadConfig({ CLERK_SYNC_ENCRYPTION_KEY: apiKey }).encryptionKeys, namespace: 'default' },
    });
  }
  const withKey = (k: string) => env({ CLERK_SYNC_ENCRYPTION_KEY: k, CLERK_SYNC_API_KEY: OPERATOR_API_KEY });

  it('passes when the API decodes what this key encrypts', async () => {
    const shared = key('k1');
    const api = await apiWithKey(shared);
    try {
      const report = await runDoctor(withKey(shared), { codecUrl: `${api.url}/codec` });
      console.log(formatReport(report).join('\n'));
      expect(line(report, 'codec.server')).toMatchObject({
        status: 'ok',
        detail: `${api.url}/codec decodes key k1`,
      });
      expect(line(report, 'keys.encryption').status).toBe('ok');
    } finally {
      await api.close();
    }
  });

  it('names a key mismatch when the API holds another key (another id, or the same id with other bytes), and exits 1', async () => {
    for (const [ours, theirs] of [
      [key('k2'), key('k1')],
      [key('k1'), key('k1')],
    ] as const) {
      const api = await apiWithKey(theirs);
      try {
        const lines: string[] = [];
        const code = await doctorCommand({ env: withKey(ours), codecUrl: `${api.url}/codec` }, (l) =>
          lines.push(l),
        );
        console.log(lines.join('\n'));
        expect(code).toBe(1);
        const report = await runDoctor(withKey(ours), { codecUrl: `${api.url}/codec` });
        expect(line(report, 'codec.server')).toMatchObject({
          status: 'fail',
          detail: expect.stringMatching(/^key mismatch: .* cannot decrypt what key k[12] encrypts \(/),
          fix: expect.stringMatching(/the same CLERK_SYNC_ENCRYPTION_KEY/),
        });
      } finally {
        await api.close();
      }
    }
  });

  it('skips, saying how to check a remote one, when no API answers on this machine', async () => {
    const port = await freePort(); // nothing listens there
    const report = await runDoctor({ ...withKey(key('k1')), PORT: String(port) });
    expect(line(report, 'codec.server')).toMatchObject({
      status: 'skip',
      detail: expect.stringMatching(
        new RegExp(
          `^no API answering at http://127\\.0\\.0\\.1:${port}/codec \\(.*\\); --codec-url https://<api>/codec checks a remote one$`,
        ),
      ),
    });
    expect(report.ok).toBe(true);
  });
});
