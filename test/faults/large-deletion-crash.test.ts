import { deliverWebhook } from '@clerk-sync/sandbox';
import {
  accountIdOf,
  countOf,
  idOf,
  insertMembers,
  salesforceApiCalls,
  startStack,
  type Stack,
} from '../helpers/stack';
import { Supervised } from './processes';

// A worker SIGKILLed in the middle of a large organization.deleted (issue 11): the restarted worker finishes the
// job without redoing the rounds that were done. Rounds remove what they did from the next round's query, so the
// calls of the crashed run exceed those of an uninterrupted twin by at most the round that was cut off.

const N = 6000;
let stack: Stack;
let worker: Supervised;

beforeAll(async () => {
  stack = await startStack({ workers: false });
  worker = new Supervised(
    'worker',
    {
      ...stack.sandbox.env,
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
      WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
    },
    /worker polling/,
  );
  await worker.start();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

/** An organization whose Account has N members in Salesforce (Contacts pointing at it, memberships). */
async function largeOrganization(name: string): Promise<{ orgId: string; accountId: string }> {
  const clerk = stack.sandbox.services.clerk;
  const org = clerk.createOrganization({ name });
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, org);
  await stack.client.workflow.getHandle(res.svixId).result();
  const accountId = await accountIdOf(stack, idOf(org));
  await insertMembers(stack, accountId, N, name.replace(/\W/g, ''));
  return { orgId: idOf(org), accountId };
}

async function remaining(accountId: string): Promise<number> {
  return (
    (await countOf(stack, `SELECT COUNT() FROM Clerk_Membership__c WHERE Account__c = '${accountId}'`)) +
    (await countOf(stack, `SELECT COUNT() FROM Contact WHERE AccountId = '${accountId}'`))
  );
}

it('a worker killed mid-way through deleting a 6,000-member organization: the restarted worker finishes without redoing finished rounds', async () => {
  const clerk = stack.sandbox.services.clerk;
  const twin = await largeOrganization('Twin Works');
  const target = await largeOrganization('Target Works');
  // A slow org: each call takes 300 ms, so the deletion spans a few seconds and the kill lands inside it.
  stack.sandbox.faults.add({ service: 'salesforce', path: /^\/services\/data\/v/, latencyMs: 300 });

  let before = salesforceApiCalls(stack.sandbox);
  let res = await deliverWebhook(
    `${stack.api.url}/webhooks/clerk`,
    stack.secret,
    clerk.deleteOrganization(twin.orgId),
  );
  await stack.client.workflow.getHandle(res.svixId).result();
  const uninterrupted = salesforceApiCalls(stack.sandbox) - before;
  expect(await remaining(twin.accountId)).toBe(0);

  before = salesforceApiCalls(stack.sandbox);
  res = await deliverWebhook(
    `${stack.api.url}/webhooks/clerk`,
    stack.secret,
    clerk.deleteOrganization(target.orgId),
  );
  // Past the first round's write, before the end: kill.
  while (salesforceApiCalls(stack.sandbox) - before < Math.ceil(uninterrupted / 2))
    await new Promise((r) => setTimeout(r, 50));
  const left = await remaining(target.accountId);
  worker.kill();
  expect(left).toBeGreaterThan(0);
  expect(left).toBeLessThan(2 * N);

  await stack.client.workflow.getHandle(res.svixId).result();
  const crashed = salesforceApiCalls(stack.sandbox) - before;
  expect(worker.starts).toBe(2);
  expect(await remaining(target.accountId)).toBe(0);
  const { records } = await stack.salesforce.query<{ Clerk_Status__c: string }>(
    `SELECT Clerk_Status__c FROM Account WHERE Id = '${target.accountId}'`,
  );
  expect(records[0]!.Clerk_Status__c).toBe('Deleted');
  console.log(
    `${N}-member deletion: ${uninterrupted} calls uninterrupted, ${crashed} with a SIGKILL mid-way`,
  );
  // At most the round that was cut off again (a round is ≤ 5 calls: read, next page, others, write).
  expect(crashed).toBeLessThanOrEqual(uninterrupted + 5);
}, 300_000);
