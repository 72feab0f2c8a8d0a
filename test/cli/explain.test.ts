import { WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { bundleOptions } from '../../src/workflow-bundle';
import { explain } from '../../src/cli/explain/plan';
import { formatExplanation, gatherFacts, type Explanation } from '../../src/cli/explain';
import { idOf, startStack, syncEvent, type Stack } from '../helpers/stack';

// `clerk-sync explain` (issue 14) against the sandbox and the run's Temporal, with payload encryption on (it decodes
// inputs and failures with the configured key): a sign-up Salesforce refused for good, a membership whose event never
// arrived, and a user in sync, each explained with the workflow responsible and what to do.

const KEY = `doctor-test:${Buffer.alloc(32, 7).toString('base64')}`;

let stack: Stack;
beforeAll(async () => {
  // The workers' encrypted bundle: failures raised in workflow code are encrypted too.
  const { code } = await bundleWorkflowCode({
    ...bundleOptions(true),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  stack = await startStack({ env: { CLERK_SYNC_ENCRYPTION_KEY: KEY }, workflowBundle: { code } });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

async function explainUser(userId: string): Promise<Explanation> {
  const explanation = explain(await gatherFacts(stack.config, stack.client, { kind: 'user', id: userId }));
  console.log(formatExplanation(explanation).join('\n'));
  return explanation;
}

it('explains a sign-up Salesforce refused for good: the failed workflow, its reason, and the replay', async () => {
  const clerk = stack.sandbox.services.clerk;
  const rule = stack.sandbox.services.salesforce.addValidationRule({
    object: 'Contact',
    on: 'create',
    message: 'Contacts need a region',
  });
  const user = clerk.createUser({
    firstName: 'Refused',
    lastName: 'Signup',
    emailAddress: ['refused@explain.example'],
  });
  const { svixId } = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, user);
  await expect(stack.client.workflow.getHandle(svixId).result()).rejects.toBeInstanceOf(WorkflowFailedError);
  stack.sandbox.services.salesforce.removeValidationRule(rule);

  const e = await explainUser(idOf(user));
  expect(e.inSync).toBe(false);
  expect(e.differences).toEqual([
    expect.objectContaining({
      record: 'Contact',
      what: 'missing',
      clerk: expect.objectContaining({
        FirstName: 'Refused',
        LastName: 'Signup',
        Email: 'refused@explain.example',
      }),
      cause: 'failed',
      workflowId: svixId,
      why: expect.stringMatching(/failed with Salesforce\w+: .*FIELD_CUSTOM_VALIDATION_EXCEPTION/),
      todo: `fix the cause, then npx clerk-sync replay ${svixId}`,
    }),
  ]);
  expect(e.workflows).toEqual([
    expect.objectContaining({
      workflowId: svixId,
      type: 'onboardUser',
      eventType: 'user.created',
      status: 'FAILED',
    }),
  ]);
});

it('explains a membership whose event never arrived: no delivery, run the backfill', async () => {
  const clerk = stack.sandbox.services.clerk;
  const org = clerk.createOrganization({ name: 'Never Told' });
  await syncEvent(stack, org);
  const user = clerk.createUser({
    firstName: 'Late',
    lastName: 'Joiner',
    emailAddress: ['late@explain.example'],
  });
  await syncEvent(stack, user);
  // Clerk has the membership; its organizationMembership.created is never delivered.
  const membership = clerk.addMembership({
    organizationId: idOf(org),
    userId: idOf(user),
    role: 'org:admin',
  });

  const e = await explainUser(idOf(user));
  expect(e.differences).toEqual([
    expect.objectContaining({
      record: 'Clerk_Membership__c',
      id: `${idOf(membership)} (${idOf(org)})`,
      what: 'missing',
      cause: 'never-received',
      why: expect.stringMatching(/^never received: no delivery of membership orgmem_\w+/),
      todo: 'npx clerk-sync backfill',
    }),
    expect.objectContaining({
      record: 'Contact',
      what: 'AccountId',
      todo: expect.stringMatching(/backfill/),
    }),
  ]);
  expect(e.workflows.map((w) => w.eventType)).toEqual(['user.created']);
});

it('says a user in sync is in sync', async () => {
  const clerk = stack.sandbox.services.clerk;
  const org = clerk.createOrganization({ name: 'All Good' });
  await syncEvent(stack, org);
  const user = clerk.createUser({
    firstName: 'Fine',
    lastName: 'Member',
    emailAddress: ['fine@explain.example'],
  });
  await syncEvent(stack, user);
  await syncEvent(stack, clerk.addMembership({ organizationId: idOf(org), userId: idOf(user) }));
  await syncEvent(stack, clerk.updateUser(idOf(user), { firstName: 'Finer' }));

  const e = await explainUser(idOf(user));
  expect(e.differences).toEqual([]);
  expect(e.inSync).toBe(true);
  // Newest first, each with the event it carried.
  expect(e.workflows.map((w) => [w.eventType, w.status])).toEqual([
    ['user.updated', 'COMPLETED'],
    ['organizationMembership.created', 'COMPLETED'],
    ['user.created', 'COMPLETED'],
  ]);
  expect(formatExplanation(e)).toContain('In sync: Salesforce holds what Clerk says.');
});

it('explains an organization: its Account and members', async () => {
  const clerk = stack.sandbox.services.clerk;
  const org = clerk.createOrganization({ name: 'Renamed Later' });
  await syncEvent(stack, org);
  clerk.updateOrganization(idOf(org), { name: 'Renamed Now' }); // organization.updated never delivered
  const e = explain(await gatherFacts(stack.config, stack.client, { kind: 'organization', id: idOf(org) }));
  console.log(formatExplanation(e).join('\n'));
  expect(e.differences).toEqual([
    expect.objectContaining({
      record: 'Account',
      what: 'Name',
      clerk: 'Renamed Now',
      salesforce: 'Renamed Later',
      cause: 'never-received',
      todo: 'npx clerk-sync backfill',
    }),
  ]);
});
