import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { InvalidArgumentError } from 'commander';
import {
  failedSyncsQuery,
  parseReplayArgs,
  planReplay,
  replay,
  type ReplayCommandOptions,
} from '../../src/cli/replay';
import { dataConverter } from '../../src/codec';
import { deliverWebhook, newSvixId } from '@clerk-sync/sandbox';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { salesforceFault } from '@clerk-sync/sandbox';
import { routeEvent } from '../../src/shared/events';
import { ClerkEventType, ClerkMessageId, ClerkUserId } from '../../src/shared/search-attributes';
import { createStarter, TemporalUnavailable, type Starter } from '../../src/starter';
import { startStack, type Stack } from '../helpers/stack';
import { quietRuntime, uniqueTaskQueue, waitUntil } from '../helpers/temporal';

const BIN = resolve(__dirname, '..', '..', 'dist', 'bin.js');

let stack: Stack;
const client = () => stack.env.client;
const taskQueue = () => stack.config.temporal.taskQueue;

beforeAll(async () => {
  quietRuntime(new DefaultLogger('ERROR')); // the failures below are on purpose
  stack = await startStack({ workers: false });
});
afterAll(async () => {
  await stack?.close();
});

/** `clerk-sync replay` in this process, against this file's task queue: its lines and counts. */
async function replayLines(
  opts: ReplayCommandOptions & { ids?: string[] },
  starter?: Pick<Starter, 'start'>,
) {
  const lines: string[] = [];
  const counts = await replay(
    client(),
    starter ?? createStarter({ client: client(), taskQueue: taskQueue() }),
    parseReplayArgs(opts.ids ?? [], opts),
    { taskQueue: taskQueue(), dryRun: opts.dryRun },
    (line) => lines.push(line),
  );
  const lineOf = (workflowId: string) => lines.find((l) => l.startsWith(`${workflowId}  `));
  return { lines, counts, lineOf };
}

/** The built `clerk-sync` command (npm test builds it first), in an empty directory, with only `env` and PATH. */
function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'clerk-sync-replay-')),
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((done) =>
    child.on('close', (status) => done({ status, stdout, stderr })),
  );
}

/** The environment that points the built command at this file's Temporal server and task queue. */
const temporalEnv = () => ({
  TEMPORAL_ADDRESS: stack.config.temporal.address,
  TEMPORAL_TASK_QUEUE: taskQueue(),
});

async function deliver(event: ClerkEvent, svixId?: string): Promise<string> {
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event, { svixId });
  expect(res.body).toMatchObject({ status: 'started' });
  return res.svixId;
}

/** An event as the endpoint receives it: JSON. */
const asSent = (e: ClerkEvent) =>
  JSON.parse(JSON.stringify(e)) as { type: string; data: Record<string, unknown>; timestamp: number };
const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;
const latestRunId = async (workflowId: string) =>
  (await client().workflow.getHandle(workflowId).describe()).runId;

/** The first argument a run started with, as the workflow received it. */
async function inputOf(workflowId: string, runId: string): Promise<unknown> {
  const history = await client().workflow.getHandle(workflowId, runId).fetchHistory();
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return defaultPayloadConverter.fromPayload(payload);
}

const RUN = /replayed: run (\S+)$/;

describe('clerk-sync replay', () => {
  // Real failed syncs on this file's own task queue, as an operator would find them the next morning.
  const ids = { failedA: '', failedB: '', failedThenOk: '', terminated: '', timedOut: '' };
  const users = { a: '', b: '', timedOut: '' };
  let organizationId = '';
  const events = {} as Record<'a' | 'b' | 'ok', ClerkEvent>;
  const failedRuns: Record<string, string> = {};

  beforeAll(async () => {
    const clerk = stack.sandbox.services.clerk;

    // No worker yet: one sync is terminated by an operator, one times out while nobody polls its queue.
    const org = clerk.createOrganization({ name: 'Analytical Engines' });
    organizationId = idOf(org);
    ids.terminated = await deliver(org);
    await client().workflow.getHandle(ids.terminated).terminate('operator stopped it');

    const stuck = clerk.createUser({
      firstName: 'Charles',
      lastName: 'Babbage',
      emailAddress: ['cb@example.com'],
    });
    users.timedOut = idOf(stuck);
    const renamed = clerk.updateUser(users.timedOut, { firstName: 'Charlie' });
    const delivery = routeEvent(newSvixId(), asSent(renamed), Date.now())!;
    ids.timedOut = delivery.svixId;
    await client().workflow.start(delivery.workflowType, {
      workflowId: delivery.svixId,
      taskQueue: taskQueue(),
      args: [delivery.input],
      workflowExecutionTimeout: '1s',
      typedSearchAttributes: [{ key: ClerkMessageId, value: delivery.svixId }, ...delivery.searchAttributes],
      staticSummary: delivery.summary,
    });
    await waitUntil(
      async () => (await client().workflow.getHandle(ids.timedOut).describe()).status.name === 'TIMED_OUT',
      10_000,
      'the stuck sync to time out',
    );

    // With the workers: a Salesforce validation rule rejects every Contact, so three sign-ups fail for good.
    await stack.startWorkers();
    stack.sandbox.faults.add(
      salesforceFault('FIELD_CUSTOM_VALIDATION_EXCEPTION', {
        method: 'POST',
        path: '^/services/data/v[0-9.]+/composite$',
        message: 'Contacts need a region',
      }),
    );
    const signUp = (firstName: string, lastName: string) =>
      clerk.createUser({ firstName, lastName, emailAddress: [`${firstName.toLowerCase()}@example.com`] });
    events.a = signUp('Ada', 'Lovelace');
    events.b = signUp('Grace', 'Hopper');
    events.ok = signUp('Alan', 'Turing');
    users.a = idOf(events.a);
    users.b = idOf(events.b);
    ids.failedA = await deliver(events.a);
    ids.failedB = await deliver(events.b);
    ids.failedThenOk = await deliver(events.ok);
    for (const id of [ids.failedA, ids.failedB, ids.failedThenOk]) {
      await expect(client().workflow.getHandle(id).result()).rejects.toThrow();
    }

    // The rule is fixed; Clerk's dashboard redelivers one of them, which now succeeds.
    stack.sandbox.faults.clear();
    await deliver(events.ok, ids.failedThenOk);
    await client().workflow.getHandle(ids.failedThenOk).result();

    // Visibility is eventually consistent: wait until every failed run can be found.
    await waitUntil(
      async () => {
        const seen = new Set<string>();
        const since = new Date(Date.now() - 3_600_000);
        for await (const w of client().workflow.list({
          query: failedSyncsQuery({ taskQueue: taskQueue(), since }),
        })) {
          seen.add(w.workflowId);
          failedRuns[w.workflowId] = w.runId;
        }
        return Object.values(ids).every((id) => seen.has(id));
      },
      20_000,
      'the failed runs in Temporal visibility',
    );
  });

  it('--dry-run lists the failed syncs and what it would do, and starts nothing', async () => {
    const before = await Promise.all(Object.values(ids).map(latestRunId));
    const { lines, counts, lineOf } = await replayLines({ failed: true, dryRun: true });

    expect(lineOf(ids.failedA)).toBe(`${ids.failedA}  user.created  ${users.a}  would replay (dry run)`);
    expect(lineOf(ids.failedB)).toBe(`${ids.failedB}  user.created  ${users.b}  would replay (dry run)`);
    expect(lineOf(ids.terminated)).toBe(
      `${ids.terminated}  organization.created  ${organizationId}  would replay (dry run)`,
    );
    expect(lineOf(ids.timedOut)).toBe(
      `${ids.timedOut}  user.updated  ${users.timedOut}  would replay (dry run)`,
    );
    expect(lineOf(ids.failedThenOk)).toMatch(/ {2}user\.created {2}user_\w+ {2}skipped: succeeded since$/);
    expect(lines).toHaveLength(6);
    expect(lines.at(-1)).toBe('replayed 0, skipped 1 (dry run: would replay 4)');
    expect(counts).toEqual({ replayed: 0, skipped: 1, failed: 0, wouldReplay: 4 });
    expect(await Promise.all(Object.values(ids).map(latestRunId))).toEqual(before);
  });

  it('--type user.created re-runs only those, under the same id with the original input, and they succeed', async () => {
    const { lines, counts, lineOf } = await replayLines({ failed: true, type: 'user.created' });

    expect(lines).toHaveLength(4);
    expect(lineOf(ids.failedThenOk)).toMatch(/skipped: succeeded since$/);
    expect(lines.at(-1)).toBe('replayed 2, skipped 1');
    expect(counts).toEqual({ replayed: 2, skipped: 1, failed: 0, wouldReplay: 0 });
    for (const [id, userId, event] of [
      [ids.failedA, users.a, events.a],
      [ids.failedB, users.b, events.b],
    ] as const) {
      const runId = RUN.exec(lineOf(id) ?? '')?.[1];
      expect(runId).toBeDefined();
      expect(runId).not.toBe(failedRuns[id]);
      const handle = client().workflow.getHandle(id, runId);
      await expect(handle.result()).resolves.toMatchObject({ contact: 'created' });
      expect(await inputOf(id, runId!)).toEqual(await inputOf(id, failedRuns[id]!));
      expect(await inputOf(id, runId!)).toMatchObject({ svixId: id, type: 'user.created', data: event.data });
      const run = await handle.describe();
      expect(run.typedSearchAttributes.get(ClerkUserId)).toBe(userId);
      expect(run.typedSearchAttributes.get(ClerkMessageId)).toBe(id);
      expect(await run.staticSummary()).toBe(`user.created ${userId} → Contact`);
      const { records } = await stack.salesforce.query<{ LastName: string; Clerk_Status__c: string }>(
        `SELECT LastName, Clerk_Status__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
      );
      expect(records).toEqual([expect.objectContaining({ Clerk_Status__c: 'Active' })]);
    }
  });

  it('run again, it replays nothing: each has succeeded since', async () => {
    const { lines, counts } = await replayLines({ failed: true, type: 'user.created' });
    expect(lines.filter((l) => l.includes('replayed: run'))).toEqual([]);
    expect(lines.slice(0, -1).every((l) => l.endsWith('skipped: succeeded since'))).toBe(true);
    expect(lines.at(-1)).toBe('replayed 0, skipped 3');
    expect(counts.replayed).toBe(0);
  });

  it('--user narrows to one Clerk user', async () => {
    const { lines } = await replayLines({ failed: true, dryRun: true, user: users.timedOut });
    expect(lines).toEqual([
      `${ids.timedOut}  user.updated  ${users.timedOut}  would replay (dry run)`,
      'replayed 0, skipped 0 (dry run: would replay 1)',
    ]);
  });

  it('a start Temporal refuses is reported and counted as failed', async () => {
    const refusing = {
      start: () => Promise.reject(new TemporalUnavailable('Temporal did not accept the start')),
    };
    const { lineOf, counts, lines } = await replayLines({ ids: [ids.timedOut] }, refusing);
    expect(lineOf(ids.timedOut)).toMatch(/ {2}failed: Temporal did not accept the start$/);
    expect(counts.failed).toBe(1);
    expect(lines.at(-1)).toBe('replayed 0, skipped 0, failed 1');
  });

  it('`clerk-sync replay WORKFLOW_ID…` re-runs the given ones and says why it skips the others', async () => {
    const res = await cli(['replay', ids.terminated, ids.failedA], temporalEnv());
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^${ids.terminated} {2}organization\\.created {2}${organizationId} {2}replayed: run \\S+$`),
    );
    expect(lines[1]).toBe(`${ids.failedA}  user.created  ${users.a}  skipped: succeeded`);
    expect(lines[2]).toBe('replayed 1, skipped 1');

    const runId = RUN.exec(lines[0]!)![1];
    await client().workflow.getHandle(ids.terminated, runId).result();
    const { records } = await stack.salesforce.query<{ Name: string }>(
      `SELECT Name FROM Account WHERE Clerk_Organization_Id__c = '${organizationId}'`,
    );
    expect(records).toEqual([expect.objectContaining({ Name: 'Analytical Engines' })]);
  });

  it('an unknown workflow id is a failure: exit code 1', async () => {
    const unknown = newSvixId();
    const res = await cli(['replay', unknown], temporalEnv());
    expect(res.status).toBe(1);
    expect(res.stdout).toBe(`${unknown}  -  -  failed: not found\nreplayed 0, skipped 0, failed 1\n`);
  });

  it('`--failed` then replays what is left: the timed-out sync', async () => {
    const res = await cli(['replay', '--failed', '--since', '1h'], temporalEnv());
    expect(res.status).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => RUN.test(l))).toEqual([
      expect.stringMatching(
        new RegExp(`^${ids.timedOut} {2}user\\.updated {2}${users.timedOut} {2}replayed`),
      ),
    ]);
    expect(lines.at(-1)).toBe('replayed 1, skipped 4');
    await client().workflow.getHandle(ids.timedOut).result();
    const { records } = await stack.salesforce.query<{ FirstName: string }>(
      `SELECT FirstName FROM Contact WHERE Clerk_User_Id__c = '${users.timedOut}'`,
    );
    expect(records).toEqual([expect.objectContaining({ FirstName: 'Charlie' })]);
  });
});

describe('clerk-sync replay with CLERK_SYNC_ENCRYPTION_KEY', () => {
  it('reads an encrypted input and summary through the codec; without the key it refuses to replay', async () => {
    const codecClient = new Client({
      connection: stack.env.connection,
      namespace: stack.config.temporal.namespace,
      dataConverter: dataConverter([{ id: 'replay-test', key: randomBytes(32) }]),
    });
    const queue = uniqueTaskQueue('nobody');
    const event = stack.sandbox.services.clerk.createUser({ firstName: 'Mary', lastName: 'Somerville' });
    const delivery = routeEvent(newSvixId(), asSent(event), Date.now())!;
    const original = await codecClient.workflow.start(delivery.workflowType, {
      workflowId: delivery.svixId,
      taskQueue: queue,
      args: [delivery.input],
      typedSearchAttributes: [{ key: ClerkMessageId, value: delivery.svixId }, ...delivery.searchAttributes],
      staticSummary: delivery.summary,
    });
    await original.terminate('stuck');
    const history = await original.fetchHistory();
    const stored = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(stored.metadata!.encoding!).toString()).toBe('binary/encrypted');

    const plan = await planReplay(codecClient, queue, delivery.svixId);
    expect(plan).toMatchObject({ action: 'replay', what: 'user.created', userId: idOf(event) });
    expect(plan.action === 'replay' && plan.request).toEqual({
      workflowType: 'onboardUser',
      workflowId: delivery.svixId,
      args: [delivery.input],
      summary: delivery.summary,
      searchAttributes: [
        { key: ClerkEventType, value: 'user.created' },
        { key: ClerkUserId, value: idOf(event) },
        { key: ClerkMessageId, value: delivery.svixId },
      ],
    });
    // Without the key the input cannot be read: reported, never replayed with something else.
    expect(await planReplay(client(), queue, delivery.svixId)).toMatchObject({
      action: 'fail',
      reason: expect.stringMatching(/^cannot read its input: /),
    });
  });
});

describe('clerk-sync replay with bad arguments', () => {
  it.each<[string[], ReplayCommandOptions, string]>([
    [[], { since: 'banana' }, "option '--since <duration>' argument 'banana' is invalid"],
    [[], { failed: true, since: '0d' }, "option '--since <duration>' argument '0d' is invalid"],
    [
      [],
      { failed: true, type: 'session.created' },
      "option '--type <event-type>' argument 'session.created'",
    ],
    [[], { failed: true, user: "x' OR 1=1" }, "option '--user <user-id>' argument"],
    [['msg_1'], { failed: true }, 'give workflow ids or --failed, not both'],
    [['msg_1'], { type: 'user.created' }, '--type applies to --failed only'],
    [[], {}, 'give the workflow ids to replay, or --failed'],
  ])('replay %j %j is refused with a usage error', (ids, opts, message) => {
    expect(() => parseReplayArgs(ids, opts)).toThrow(InvalidArgumentError);
    expect(() => parseReplayArgs(ids, opts)).toThrow(message);
  });

  it('--since defaults to 24 hours back', () => {
    const now = Date.parse('2026-01-02T12:00:00Z');
    expect(parseReplayArgs([], { failed: true }, now)).toEqual({ since: new Date('2026-01-01T12:00:00Z') });
    expect(parseReplayArgs([], { failed: true, since: '30m', type: 'user.created' }, now)).toEqual({
      since: new Date('2026-01-02T11:30:00Z'),
      eventType: 'user.created',
    });
  });

  it.each([
    [['--since', 'banana'], "error: option '--since <duration>' argument 'banana' is invalid"],
    [[], 'error: give the workflow ids to replay, or --failed'],
  ])(
    'the built command answers replay %j with usage, no stack trace, before connecting',
    async (args, message) => {
      const res = await cli(['replay', ...args], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(message);
      expect(res.stderr).toContain('Usage: clerk-sync replay [options] [workflow-id...]');
      expect(res.stderr).not.toMatch(/\n\s+at /);
      expect(res.stdout).toBe('');
    },
  );
});
