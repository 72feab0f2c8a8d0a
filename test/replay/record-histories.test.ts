import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { backfill } from '../../src/cli/backfill';
import { deliverWebhook } from '@clerk-sync/sandbox';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { notifierWorkflowId } from '../../src/shared/notices';
import { OPERATOR_API_KEY, startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// `npm run histories:record` re-records one real history per workflow type into test/histories/, which
// histories.test.ts replays on every run. Re-record only on purpose: a change that breaks the replay of an
// old history needs `patched()` (STYLE.md), not a new recording.
const RECORD = process.env.RECORD_HISTORIES === '1';
const HISTORIES = join(__dirname, '..', 'histories');

let stack: Stack;
beforeAll(async () => {
  if (RECORD) stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Records a workflow's history once it has closed, or, for the notifier that never closes, as it is now. */
async function record(name: string, workflowId: string, running = false): Promise<void> {
  const handle = stack.env.client.workflow.getHandle(workflowId);
  if (!running) await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  // The file name carries the workflow id: a replay must run under the id the history was made with.
  writeFileSync(
    join(HISTORIES, `${name}--${encodeURIComponent(workflowId)}.json`),
    `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`,
  );
}

async function deliver(event: ClerkEvent): Promise<string> {
  return (await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event)).svixId;
}

(RECORD ? it : it.skip)('records one history per workflow type', async () => {
  const clerk = stack.sandbox.services.clerk;
  const id = (e: ClerkEvent) => (e.data as { id: string }).id;
  const user = clerk.createUser({
    firstName: 'Ada',
    lastName: 'Lovelace',
    emailAddress: ['ada.history@example.com'],
  });
  const org = clerk.createOrganization({ name: 'Analytical Engines' });
  const org2 = clerk.createOrganization({ name: 'Difference Labs' });
  const join = clerk.addMembership({ organizationId: id(org), userId: id(user), role: 'org:admin' });

  const onboard = await deliver(user);
  await record('onboardUser', onboard);
  await record('syncUser', await deliver(clerk.updateUser(id(user), { lastName: 'King' })));
  await record('syncOrganization', await deliver(org));
  await record('syncMembership', await deliver(join));
  await deliver(clerk.addMembership({ organizationId: id(org2), userId: id(user), role: 'org:member' }));
  await record(
    'removeMembership',
    await deliver(clerk.removeMembership({ organizationId: id(org), userId: id(user) })),
  );
  await record('markOrganizationDeleted', await deliver(clerk.deleteOrganization(id(org2))));
  await record('markUserDeleted', await deliver(clerk.deleteUser(id(user))));
  // The notifier: started by the sign-up's notice, signalled by the others; recorded once it has posted them all.
  await waitUntil(
    () => stack.sandbox.services.slack.messages().some((m) => m.text?.includes('left Analytical Engines')),
    30_000,
    'the notices',
  );
  await record('postSlackNotices', notifierWorkflowId(stack.config.temporal.taskQueue), true);

  const account = await stack.salesforce.sobject('Account').create({ Name: 'Babbage & Co' });
  const res = await fetch(`${stack.api.url}/api/organizations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: (account as { id: string }).id }),
  });
  await record('createOrganizationForAccount', ((await res.json()) as { workflowId: string }).workflowId);

  // Two pages per run: the recorded (last) run starts from the state the previous one continued as new with.
  const { workflowId } = await backfill(
    { pageSize: 2, pagesPerRun: 2 },
    { client: stack.env.client, taskQueue: stack.config.temporal.taskQueue, out: { write: () => true } },
  );
  await record('backfillFromClerk', workflowId!);
});
