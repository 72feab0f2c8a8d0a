import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { bundleWorkflowCode } from '@temporalio/worker';
import { EncryptionCodec } from '../../src/codec';
import { salesforceFault } from '@clerk-sync/sandbox';
import { runScenario, type ScenarioDelivery } from '@clerk-sync/sandbox';
import type { ClerkUser } from '../../src/shared/clerk';
import { notifierWorkflowId } from '../../src/shared/notices';
import { bundleOptions } from '../../src/workflow-bundle';
import { slackLines } from '../helpers/slack';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// Issue 6 "Histories without plain PII": with CLERK_SYNC_ENCRYPTION_KEY set, what Temporal stores (inputs,
// activity arguments and results, child workflows, failure messages) holds no email address and no name; a client
// with the product's data converter reads all of it back.

const KEY = randomBytes(32);
const OLD_KEY = randomBytes(32);
const codec = new EncryptionCodec([
  { id: 'e2e-2025', key: KEY },
  { id: 'e2e-2024', key: OLD_KEY },
]);

let stack: Stack;
beforeAll(async () => {
  // The worker's encrypted bundle: the workflow side encrypts the failures it raises too.
  const { code } = await bundleWorkflowCode({
    ...bundleOptions(true),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  stack = await startStack({
    env: {
      CLERK_SYNC_ENCRYPTION_KEY: `e2e-2025:${KEY.toString('base64')} e2e-2024:${OLD_KEY.toString('base64')}`,
    },
    workflowBundle: { code },
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sandbox.faults.clear());

/** Every string and every byte field (read as UTF-8) of a history: all that anyone with database access reads. */
function readable(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const v of value) readable(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) readable(v, out);
  return out;
}

const isEncrypted = (v: object): v is Payload =>
  'metadata' in v && Buffer.from((v as Payload).metadata?.encoding ?? []).toString() === 'binary/encrypted';

/** The same history with every encrypted payload decrypted: what an operator sees through the codec server. */
async function decrypted(value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map(decrypted));
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (isEncrypted(value)) return (await codec.decode([value]))[0];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = await decrypted(v);
  return out;
}

/** The raw history as Temporal stores it, read by a client without the codec. */
async function storedHistory(workflowId: string) {
  const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  expect(history.events?.length).toBeGreaterThan(3);
  return history;
}

/** What must never be stored in clear: addresses, usernames, names (quoted as JSON fields carry them). */
function personalData(user: ClerkUser): string[] {
  const first = user.first_name!;
  const last = user.last_name!;
  return [
    ...user.email_addresses.map((e) => e.email_address),
    user.username!,
    `${first} ${last}`,
    `"${first}"`,
    `"${last}"`,
    last,
  ];
}

const target = () => ({ endpoint: `${stack.api.url}/webhooks/clerk`, secret: stack.secret });
const userOf = (d: ScenarioDelivery) => d.event.data as unknown as ClerkUser;

it('a sign-up leaves no email address or name in clear in its history or its Slack notice', async () => {
  const [delivery] = await runScenario(stack.sandbox, target(), 'sign-up');
  expect(delivery!.body).toEqual({ status: 'started', workflowId: delivery!.svixId });
  const user = userOf(delivery!);
  const svixId = delivery!.svixId;

  // The product's client decrypts: the result and the summary read as usual.
  await expect(stack.client.workflow.getHandle(svixId).result()).resolves.toEqual({
    contact: 'created',
    memberships: 0,
    welcomeEmail: 'sent',
  });
  await waitUntil(() => slackLines(stack.sandbox).some((l) => l.includes(user.id)), 10_000, 'the notice');
  const notifier = notifierWorkflowId(stack.config.temporal.taskQueue);
  const described = await stack.client.workflow.getHandle(svixId).describe();
  expect(await described.staticSummary()).toBe(`user.created ${user.id} → Contact`);

  for (const workflowId of [svixId, notifier]) {
    const history = await storedHistory(workflowId);
    const stored = readable(history).join('\n');
    for (const secret of personalData(user))
      expect({ workflowId, leaked: stored.includes(secret) }).toEqual({
        workflowId,
        leaked: false,
      });
    // The control: decrypted, the same history does hold them (so the search above can find them).
    const opened = readable(await decrypted(history)).join('\n');
    expect(opened).toContain(
      workflowId === svixId ? user.email_addresses[0]!.email_address : user.last_name!,
    );
  }

  // Ids stay searchable in clear: search attributes are never encoded.
  const [first] = (await storedHistory(svixId)).events!;
  const started = first!.workflowExecutionStartedEventAttributes!;
  expect(readable(started.searchAttributes).join('\n')).toContain(user.id);
  expect(isEncrypted(started.input!.payloads![0]!)).toBe(true);
  // The summary is a payload too: the UI shows it only through the codec server.
  expect(isEncrypted(first!.userMetadata!.summary!)).toBe(true);
});

it('a failed sync: the failure message that quotes an email address is stored encrypted, and decodes', async () => {
  const tag = randomBytes(3).toString('hex');
  const email = `wilhelmina.vanderquux.${tag}@example.com`;
  stack.sandbox.faults.add(
    salesforceFault('DUPLICATE_VALUE', {
      method: 'POST',
      path: '^/services/data/v[0-9.]+/composite$',
      message: `duplicate value found: Email duplicates value ${email} on record with id: 0035g00000ABCDEAAA`,
      times: 1,
    }),
  );
  const [delivery] = await runScenario(stack.sandbox, target(), [
    (clerk) =>
      clerk.createUser({
        firstName: 'Wilhelmina',
        lastName: `Vanderquux${tag}`,
        username: `wvq.${tag}`,
        emailAddress: [email],
      }),
  ]);
  const svixId = delivery!.svixId;

  const err = await stack.client.workflow
    .getHandle(svixId)
    .result()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const messages: string[] = [];
  for (let e = (err as Error).cause; e instanceof Error; e = e.cause) messages.push(e.message);
  // The classifier masks addresses that services quote (src/activities/errors.ts); the rest decodes as sent.
  expect(messages.join(' | ')).toContain(
    'DUPLICATE_VALUE: duplicate value found: Email duplicates value [email]',
  );

  const history = await storedHistory(svixId);
  const failedEvents = history.events!.filter(
    (e) => e.activityTaskFailedEventAttributes || e.workflowExecutionFailedEventAttributes,
  );
  expect(failedEvents.length).toBeGreaterThanOrEqual(2);
  const stored = readable(history).join('\n');
  for (const secret of [email, 'Wilhelmina', `Vanderquux${tag}`, `wvq.${tag}`, 'duplicate value found']) {
    expect({ secret, leaked: stored.includes(secret) }).toEqual({ secret, leaked: false });
  }
  expect(stored).toContain('Encoded failure'); // the SDK's placeholder where the message was
  const decoded = readable(await decrypted(history)).join('\n');
  expect(decoded).toContain('duplicate value found: Email duplicates value [email]');
  expect(decoded).toContain(email); // the input, decrypted
});

it("a rolled-back membership removal: the saga's own failure, quoting Salesforce, is encrypted by the workflow", async () => {
  const finish = (deliveries: ScenarioDelivery[]) =>
    Promise.all(deliveries.map((d) => stack.client.workflow.getHandle(d.svixId).result()));
  const joinedA = await runScenario(stack.sandbox, target(), 'join-org');
  await finish(joinedA);
  const user = userOf(joinedA.find((d) => d.type === 'user.created')!);
  const orgA = (joinedA.find((d) => d.type === 'organization.created')!.event.data as { id: string }).id;
  await finish(await runScenario(stack.sandbox, target(), 'join-org', { userId: user.id }));

  // As in test/e2e/membership.test.ts: a validation rule rejects the Contact's move, quoting the Contact.
  const email = user.email_addresses[0]!.email_address;
  const rule = stack.sandbox.services.salesforce.addValidationRule({
    object: 'Contact',
    on: 'update',
    field: 'AccountId',
    message: `Contact ${email} belongs to a key account`,
  });
  const [left] = await runScenario(stack.sandbox, target(), [
    (clerk) => clerk.removeMembership({ organizationId: orgA, userId: user.id }),
  ]);
  const failure = await stack.client.workflow
    .getHandle(left!.svixId)
    .result()
    .catch((err: unknown) => err);
  stack.sandbox.services.salesforce.removeValidationRule(rule);
  const rolledBack = (failure as { cause?: Error & { type?: string } }).cause;
  expect(rolledBack?.type).toBe('MembershipRemovalRolledBack');
  expect(rolledBack?.message).toContain('Contact [email] belongs to a key account');

  const history = await storedHistory(left!.svixId);
  const stored = readable(history).join('\n');
  for (const secret of [...personalData(user), 'belongs to a key account', 'rolled back']) {
    expect({ secret, leaked: stored.includes(secret) }).toEqual({ secret, leaked: false });
  }
  expect(readable(await decrypted(history)).join('\n')).toContain('Contact [email] belongs to a key account');
});
