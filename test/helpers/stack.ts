import { Connection as SalesforceConnection } from 'jsforce';
import pino from 'pino';
import type { Logger } from '../../src/logger';
import { Client } from '@temporalio/client';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createClients } from '../../src/clients';
import { dataConverter } from '../../src/codec';
import { loadConfig, type Config } from '../../src/config';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { createSandbox, type Sandbox, type SandboxOptions } from '@clerk-sync/sandbox';
import { createWorkers, runWorkers } from '../../src/worker';
import { startTestApi, testSecret } from './api';
import { attachTemporal, uniqueTaskQueue } from './temporal';

/** The operator API key of every test stack. */
export const OPERATOR_API_KEY = 'test-operator-key-0123456789';

/** Everything a sync test drives: Temporal, the API, the sandbox, the workers, and a jsforce client to look. */
export interface Stack {
  /** Temporal as it is; `env.client` reads payloads as stored (encrypted when the stack has a key). */
  env: TestWorkflowEnvironment;
  /** A client with the product's data converter: it decrypts what the stack encrypted. */
  client: Client;
  api: Awaited<ReturnType<typeof startTestApi>>;
  sandbox: Sandbox;
  config: Config;
  secret: string;
  /** A jsforce connection to the sandbox's Salesforce, for assertions as a Salesforce user would make them. */
  salesforce: SalesforceConnection;
  /** Starts the workers (the sync stays pending until then); `stopWorkers` stops them. */
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** The product wired together against the run's Temporal server and a sandbox of this test file's own. */
export async function startStack(
  options: {
    sandbox?: SandboxOptions;
    workers?: boolean;
    env?: Record<string, string>;
    logger?: Logger;
    /** Instead of the run's bundle; with encryption keys, one built with the codec's failure converter. */
    workflowBundle?: WorkerOptions['workflowBundle'];
  } = {},
): Promise<Stack> {
  const env = await attachTemporal();
  const secret = testSecret();
  const taskQueue = uniqueTaskQueue('sync');
  const logger = options.logger ?? pino({ level: 'silent' });
  const namespace = env.namespace ?? 'default';
  // The API exists before the sandbox (whose URLs complete the configuration), so read its keys on their own.
  const keys = loadConfig({
    CLERK_SYNC_ENCRYPTION_KEY: options.env?.CLERK_SYNC_ENCRYPTION_KEY,
  }).encryptionKeys;
  const client = new Client({ connection: env.connection, namespace, dataConverter: dataConverter(keys) });
  const api = await startTestApi({
    client,
    taskQueue,
    secrets: [secret],
    operatorApiKey: OPERATOR_API_KEY,
    codec: { keys, namespace },
    logger,
  });
  const sandbox = await createSandbox({
    ...options.sandbox,
    webhook: { url: `${api.url}/webhooks/clerk`, secret },
  });
  const config = loadConfig({
    ...sandbox.env,
    CLERK_WEBHOOK_SIGNING_SECRET: secret,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>',
    WELCOME_EMAIL_SUBJECT: 'Welcome to Acme',
    ...options.env,
  });
  const salesforce = new SalesforceConnection({
    oauth2: {
      loginUrl: sandbox.env.SALESFORCE_LOGIN_URL,
      clientId: sandbox.env.SALESFORCE_CLIENT_ID,
      clientSecret: sandbox.env.SALESFORCE_CLIENT_SECRET,
    },
    loginUrl: sandbox.env.SALESFORCE_LOGIN_URL,
    version: '62.0',
  });
  await salesforce.authorize({ grant_type: 'client_credentials' });

  let workers: Worker[] = [];
  let running: Promise<void> | undefined;
  const stack: Stack = {
    env,
    client,
    api,
    sandbox,
    config,
    secret,
    salesforce,
    async startWorkers() {
      workers = await createWorkers({
        config,
        connection: env.nativeConnection,
        clients: createClients(config, logger),
        workflowBundle: options.workflowBundle ?? { codePath: process.env.CLERK_SYNC_TEST_BUNDLE! },
      });
      running = runWorkers(workers);
    },
    async stopWorkers() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      running = undefined;
    },
    async close() {
      await stack.stopWorkers();
      await api.close();
      await sandbox.close();
      await env.teardown();
    },
  };
  if (options.workers !== false) await stack.startWorkers();
  return stack;
}

/** Salesforce API calls (not the OAuth token calls) the sandbox has received so far. */
export function salesforceApiCalls(sandbox: Sandbox): number {
  return sandbox
    .calls('salesforce')
    .filter((c) => c.path.startsWith('/services/data/') && c.path !== '/services/data/').length;
}

/** Delivers one Clerk event as Svix would (signed, a fresh svix-id) and returns its workflow's result. */
export async function syncEvent(stack: Stack, event: unknown): Promise<unknown> {
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event);
  return stack.client.workflow.getHandle(res.svixId).result();
}

/** The Clerk id of an event's record (`data.id`). */
export const idOf = (event: { data: unknown }): string => (event.data as { id: string }).id;

/** Each activity of a run as its history shows it: the attempt that closed it and how. */
export async function activitiesOf(
  stack: Stack,
  workflowId: string,
): Promise<{ activity: string; attempt: number; outcome: string }[]> {
  const events = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Map<string, { activity: string; attempt: number; outcome: string }>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s)
      scheduled.set(String(e.eventId), {
        activity: s.activityType?.name ?? '?',
        attempt: 0,
        outcome: 'scheduled',
      });
    const started = e.activityTaskStartedEventAttributes;
    if (started) scheduled.get(String(started.scheduledEventId))!.attempt = started.attempt ?? 0;
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) scheduled.get(String(completed.scheduledEventId))!.outcome = 'completed';
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) scheduled.get(String(failed.scheduledEventId))!.outcome = 'failed';
  }
  return [...scheduled.values()];
}

/** Creates records through the REST API (Collections, 200 a call), as any Salesforce client would; their ids. */
export async function insertRecords(
  stack: Pick<Stack, 'salesforce'>,
  type: string,
  records: Record<string, unknown>[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < records.length; i += 200) {
    const results = await stack.salesforce.sobject(type).create(records.slice(i, i + 200));
    for (const r of results) {
      if (!r.success) throw new Error(`insert ${type}: ${JSON.stringify(r)}`);
      ids.push(r.id);
    }
  }
  return ids;
}

/**
 * `n` members of an Account as Salesforce holds them after a sync: Contacts (`user_<prefix>_<i>`) pointing at it and
 * their memberships (`orgmem_<prefix>_<i>`); the Contacts' ids.
 */
export async function insertMembers(
  stack: Pick<Stack, 'salesforce'>,
  accountId: string,
  n: number,
  prefix: string,
): Promise<string[]> {
  const contacts = await insertRecords(
    stack,
    'Contact',
    Array.from({ length: n }, (_, i) => ({
      LastName: `${prefix} ${i}`,
      Clerk_User_Id__c: `user_${prefix}_${i}`,
      Clerk_Status__c: 'Active',
      AccountId: accountId,
    })),
  );
  await insertRecords(
    stack,
    'Clerk_Membership__c',
    contacts.map((Contact__c, i) => ({
      Clerk_Membership_Id__c: `orgmem_${prefix}_${i}`,
      Role__c: 'org:member',
      Contact__c,
      Account__c: accountId,
    })),
  );
  return contacts;
}

/** The Salesforce Id of the Account of a Clerk organization. */
export async function accountIdOf(stack: Pick<Stack, 'salesforce'>, orgId: string): Promise<string> {
  const { records } = await stack.salesforce.query<{ Id: string }>(
    `SELECT Id FROM Account WHERE Clerk_Organization_Id__c = '${orgId}'`,
  );
  if (!records[0]) throw new Error(`no Account for ${orgId}`);
  return records[0].Id;
}

/** Records a query counts (`SELECT COUNT() …`). */
export async function countOf(stack: Pick<Stack, 'salesforce'>, soql: string): Promise<number> {
  return (await stack.salesforce.query(soql)).totalSize;
}
