import { Writable } from 'node:stream';
import { Runtime, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { CREDENTIAL_REJECTIONS_METRIC } from '../../src/activities/credential-alerts';
import { createClients } from '../../src/clients';
import type { Config } from '../../src/config';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { createWorkers, installRuntimeLogger, runWorkers } from '../../src/worker';
import { freePort } from '../helpers/net';
import { activitiesOf, startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// Issue 12 "Credentials that fail in silence": a credential a service refuses keeps its syncs retrying (fixing the
// configuration resumes them, no replay), and is visible within a minute: the pending activity's last failure names
// the cause and the variable, the worker logs one error line per cause and minute, and a metric counts the refusals.
// Each case runs the worker with a wrong credential, then restarts it with the right one, as an operator would.

/** Every line the worker process logs (pino JSON), the Temporal SDK's included. */
const lines: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  }),
);

let metricsUrl: string;
let stack: Stack;
let workers: { workers: Worker[]; running: Promise<void> } | undefined;

beforeAll(async () => {
  // The worker's own runtime set-up (src/worker.ts), with its Prometheus exporter. test/helpers/temporal.ts would
  // install a quiet runtime of its own: this file's is already in place.
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  installRuntimeLogger(logger, { prometheus: `127.0.0.1:${port}` });
  jest.spyOn(Runtime, 'install').mockImplementation(() => Runtime.instance());
  stack = await startStack({ workers: false, logger });
});
afterAll(async () => {
  await stopWorkers();
  await stack?.close();
});

/** The worker process, started (again) with this configuration: the stack's, with some credentials replaced. */
async function startWorkers(change: (config: Config) => Partial<Config> = () => ({})): Promise<void> {
  await stopWorkers();
  const config: Config = { ...stack.config, ...change(stack.config) };
  const created = await createWorkers({
    config,
    connection: stack.env.nativeConnection,
    clients: createClients(config, logger),
    workflowBundle: { codePath: process.env.CLERK_SYNC_TEST_BUNDLE! },
  });
  workers = { workers: created, running: runWorkers(created) };
}

async function stopWorkers(): Promise<void> {
  if (!workers) return;
  for (const w of workers.workers) if (w.getState() === 'RUNNING') w.shutdown();
  await workers.running;
  workers = undefined;
}

const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;
let people = 0;
/** A sign-up in the sandbox's Clerk, delivered as Svix would; its workflow id and run id. */
async function signUp(): Promise<{ svixId: string; runId: string; userId: string; address: string }> {
  people += 1;
  const address = `katherine${people}@example.com`;
  const event = stack.sandbox.services.clerk.createUser({
    firstName: 'Katherine',
    lastName: 'Johnson',
    emailAddress: [address],
  });
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event);
  expect(res.body).toEqual({ status: 'started', workflowId: res.svixId });
  const { runId } = await stack.client.workflow.getHandle(res.svixId).describe();
  return { svixId: res.svixId, runId, userId: idOf(event), address };
}

/** The run's pending activity once its last failure is of `type` and it is at `attempt` or later: what the UI shows. */
async function failingActivity(svixId: string, activity: string, type: string, attempt = 1) {
  return waitUntil(
    async () => {
      const { raw } = await stack.client.workflow.getHandle(svixId).describe();
      const pending = raw.pendingActivities?.find((a) => a.activityType?.name === activity);
      return pending?.lastFailure?.applicationFailureInfo?.type === type && (pending.attempt ?? 0) >= attempt
        ? pending
        : undefined;
    },
    30_000,
    `${activity} failing with ${type} (attempt ${attempt})`,
  );
}

/** The worker's error lines about a refused credential of this type and cause. */
const alertLines = (type: string, cause: string) =>
  lines.filter((l) => l.credentialRejected === type && l.cause === cause && l.level === 50);

/** The counter's total for a service and cause, as Prometheus scrapes it from the worker. */
async function rejections(service: string, cause: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(CREDENTIAL_REJECTIONS_METRIC) &&
        l.includes(`service="${service}"`) &&
        l.includes(`cause="${cause}"`),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

const contactsOf = async (userId: string) =>
  (await stack.salesforce.query(`SELECT Id FROM Contact WHERE Clerk_User_Id__c = '${userId}'`)).totalSize;

it('a wrong Salesforce client secret: named on the pending activity, logged once, counted; fixed, the sync completes', async () => {
  await startWorkers((c) => ({
    salesforce:
      c.salesforce?.kind === 'client-credentials'
        ? { ...c.salesforce, clientSecret: 'not-the-secret-3f9a' }
        : undefined,
  }));
  const started = Date.now();
  const { svixId, runId, userId, address } = await signUp();

  const first = await failingActivity(svixId, 'onboardContact', 'SalesforceAuthRejected');
  expect(Date.now() - started).toBeLessThan(60_000);
  expect(first.lastFailure?.message).toBe(
    'invalid_client: invalid client credentials — check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET',
  );
  // Retried: a second attempt fails the same way, one line in the log for both, both counted.
  await failingActivity(svixId, 'onboardContact', 'SalesforceAuthRejected', 3);
  const logged = alertLines('SalesforceAuthRejected', 'invalid_client');
  expect(logged).toHaveLength(1);
  expect(logged[0]).toMatchObject({
    msg: expect.stringContaining('check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET') as string,
    service: 'salesforce',
    workflowId: svixId,
    activityType: 'onboardContact',
  });
  expect(await rejections('salesforce', 'invalid_client')).toBeGreaterThanOrEqual(2);
  expect(JSON.stringify(lines)).not.toContain('not-the-secret-3f9a'); // the secret itself is never logged

  // The operator fixes SALESFORCE_CLIENT_SECRET and restarts the worker: the same run completes, no replay.
  await startWorkers();
  const handle = stack.client.workflow.getHandle(svixId, runId);
  await expect(handle.result()).resolves.toMatchObject({ contact: 'created', welcomeEmail: 'sent' });
  expect((await stack.client.workflow.getHandle(svixId).describe()).runId).toBe(runId);
  const upsert = (await activitiesOf(stack, svixId)).find((a) => a.activity === 'onboardContact');
  expect(upsert).toMatchObject({ outcome: 'completed', attempt: expect.any(Number) as number });
  expect(upsert!.attempt).toBeGreaterThanOrEqual(3);
  expect(await contactsOf(userId)).toBe(1);
  expect(stack.sandbox.services.resend.emails().filter((e) => e.to.includes(address))).toHaveLength(1);
});

it('a fixed access token Salesforce refuses: INVALID_SESSION_ID naming SALESFORCE_ACCESS_TOKEN; a valid one completes', async () => {
  const instanceUrl = stack.salesforce.instanceUrl;
  await startWorkers((c) => ({
    salesforce: {
      kind: 'session',
      instanceUrl,
      accessToken: 'revoked',
      apiVersion: c.salesforce!.apiVersion,
    },
  }));
  const { svixId, userId } = await signUp();
  const pending = await failingActivity(svixId, 'onboardContact', 'SalesforceAuthRejected');
  expect(pending.lastFailure?.message).toMatch(
    /^INVALID_SESSION_ID: .* — check SALESFORCE_ACCESS_TOKEN \/ SALESFORCE_INSTANCE_URL/,
  );

  await startWorkers((c) => ({
    salesforce: {
      kind: 'session',
      instanceUrl,
      accessToken: stack.salesforce.accessToken!,
      apiVersion: c.salesforce!.apiVersion,
    },
  }));
  await expect(stack.client.workflow.getHandle(svixId).result()).resolves.toMatchObject({
    contact: 'created',
  });
  expect(await contactsOf(userId)).toBe(1);
});

it('a revoked Clerk key, then a revoked Resend key: each named on its pending activity; fixed, one email', async () => {
  await startWorkers((c) => ({
    clerk: { ...c.clerk!, secretKey: 'sk_test_revoked' },
    email: { ...c.email!, apiKey: 're_revoked' },
  }));
  const { svixId, userId, address } = await signUp();
  const clerk = await failingActivity(svixId, 'onboardContact', 'ClerkAuthRejected');
  expect(clerk.lastFailure?.message).toBe(
    'clerk_key_invalid: Secret key invalid (401) — check CLERK_SECRET_KEY',
  );
  expect(alertLines('ClerkAuthRejected', 'clerk_key_invalid')).toHaveLength(1);

  // CLERK_SECRET_KEY fixed: the sync goes on to the email, which the Resend key stops.
  await startWorkers((c) => ({ email: { ...c.email!, apiKey: 're_revoked' } }));
  const resend = await failingActivity(svixId, 'sendWelcomeEmail', 'ResendAuthRejected');
  expect(resend.lastFailure?.message).toBe(
    'invalid_api_key: API key is invalid (403) — check RESEND_API_KEY',
  );
  expect(await contactsOf(userId)).toBe(1);
  expect(await rejections('resend', 'invalid_api_key')).toBeGreaterThanOrEqual(1);

  await startWorkers();
  await expect(stack.client.workflow.getHandle(svixId).result()).resolves.toMatchObject({
    welcomeEmail: 'sent',
  });
  expect(stack.sandbox.services.resend.emails().filter((e) => e.to.includes(address))).toHaveLength(1);
});
