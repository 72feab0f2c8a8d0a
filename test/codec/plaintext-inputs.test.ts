import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { EncryptionCodec } from '../../src/codec';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook, newSvixId } from '@clerk-sync/sandbox';
import { routeEvent } from '../../src/shared/events';
import { slackLines } from '../helpers/slack';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// Issue 12 "Compose": anyone who reaches Temporal's frontend can start `onboardUser` with any input. With
// CLERK_SYNC_ENCRYPTION_KEY set, only what clerk-sync encrypted runs: a start from a client without the key is
// refused by the worker, unless CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS allows it during a migration.

const KEY = randomBytes(32);
const ENCRYPTION_KEY = `plain-test:${KEY.toString('base64')}`;
const codec = new EncryptionCodec([{ id: 'plain-test', key: KEY }]);

type Failure = temporal.api.failure.v1.IFailure;

const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;

/** Starts a sign-up's workflow as a client without the key would (Temporal CLI, UI, SDK): the input in clear. */
async function startInClear(stack: Stack, event: ClerkEvent): Promise<string> {
  const delivery = routeEvent(
    newSvixId(),
    JSON.parse(JSON.stringify(event)) as { type: string; data: Record<string, unknown> },
    Date.now(),
  )!;
  await stack.env.client.workflow.start(delivery.workflowType, {
    workflowId: delivery.svixId,
    taskQueue: stack.config.temporal.taskQueue,
    args: [delivery.input],
  });
  return delivery.svixId;
}

/** A failure's message as an operator reads it through the codec server (it is stored encrypted). */
async function messageOf(failure: Failure): Promise<string> {
  if (!failure.encodedAttributes) return failure.message ?? '';
  const [decoded] = await codec.decode([failure.encodedAttributes]);
  return defaultPayloadConverter.fromPayload<{ message: string }>(decoded!).message;
}

async function contactsOf(stack: Stack, userId: string): Promise<number> {
  const { records } = await stack.salesforce.query(
    `SELECT Id FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  return records.length;
}

describe('a worker with CLERK_SYNC_ENCRYPTION_KEY', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { CLERK_SYNC_ENCRYPTION_KEY: ENCRYPTION_KEY } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('runs what the API started: the sync, its activities and its Slack notice', async () => {
    const user = stack.sandbox.services.clerk.createUser({ firstName: 'Ada', lastName: 'Lovelace' });
    const { svixId } = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, user);
    await expect(stack.client.workflow.getHandle(svixId).result()).resolves.toMatchObject({
      contact: 'created',
    });
    await waitUntil(
      () => slackLines(stack.sandbox).some((l) => l.includes(idOf(user))),
      10_000,
      'the notice',
    );
    expect(await contactsOf(stack, idOf(user))).toBe(1);
  });

  it('refuses a workflow started in clear: its task fails naming why, and nothing runs', async () => {
    const user = stack.sandbox.services.clerk.createUser({ firstName: 'Mallory', lastName: 'Intruder' });
    const workflowId = await startInClear(stack, user);
    const handle = stack.env.client.workflow.getHandle(workflowId);
    try {
      const failed = await waitUntil(
        async () =>
          (await handle.fetchHistory()).events?.find((e) => e.workflowTaskFailedEventAttributes)
            ?.workflowTaskFailedEventAttributes,
        20_000,
        'a failed workflow task',
      );
      const message = await messageOf(failed.failure!);
      expect(message).toContain('refused a payload that is not encrypted');
      expect(message).toContain('CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS');

      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
      expect((await handle.describe()).status.name).toBe('RUNNING'); // pending, for an operator to terminate
      expect(await contactsOf(stack, idOf(user))).toBe(0);
    } finally {
      await handle.terminate('test cleanup');
    }
  });
});

describe('with CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS=true (a migration)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { CLERK_SYNC_ENCRYPTION_KEY: ENCRYPTION_KEY, CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS: 'true' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('runs a workflow whose input is in clear, as one from before the key', async () => {
    const user = stack.sandbox.services.clerk.createUser({ firstName: 'Grace', lastName: 'Hopper' });
    const workflowId = await startInClear(stack, user);
    await expect(stack.client.workflow.getHandle(workflowId).result()).resolves.toMatchObject({
      contact: 'created',
    });
    expect(await contactsOf(stack, idOf(user))).toBe(1);
  });
});
