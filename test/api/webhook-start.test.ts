import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadFixture } from '../../src/local/fixtures';
import type { ROUTES } from '../../src/shared/events';
import {
  ClerkEventType,
  ClerkMessageId,
  ClerkOrganizationId,
  ClerkUserId,
} from '../../src/shared/search-attributes';
import { signDelivery } from '@clerk-sync/sandbox';
import { startTestApi, testSecret } from '../helpers/api';
import { attachTemporal, uniqueTaskQueue } from '../helpers/temporal';

// No worker polls this queue: the tests look at what was started, not at what it did.
const SECRET = testSecret();
let env: TestWorkflowEnvironment;
let api: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  env = await attachTemporal();
  api = await startTestApi({ client: env.client, taskQueue: uniqueTaskQueue('start'), secrets: [SECRET] });
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

const USER = 'user_2NxAdaLovelace000001';
const ORG = 'org_2bX7LovelaceLabs0001';
const expected: Record<
  keyof typeof ROUTES,
  { workflowType: string; userId?: string; orgId?: string; summary: string }
> = {
  'user.created': { workflowType: 'onboardUser', userId: USER, summary: `user.created ${USER} → Contact` },
  'user.updated': { workflowType: 'syncUser', userId: USER, summary: `user.updated ${USER} → Contact` },
  'user.deleted': {
    workflowType: 'markUserDeleted',
    userId: USER,
    summary: `user.deleted ${USER} → Contact`,
  },
  'organization.created': {
    workflowType: 'syncOrganization',
    orgId: ORG,
    summary: `organization.created ${ORG} → Account`,
  },
  'organization.updated': {
    workflowType: 'syncOrganization',
    orgId: ORG,
    summary: `organization.updated ${ORG} → Account`,
  },
  'organization.deleted': {
    workflowType: 'markOrganizationDeleted',
    orgId: ORG,
    summary: `organization.deleted ${ORG} → Account`,
  },
  'organizationMembership.created': {
    workflowType: 'syncMembership',
    userId: USER,
    orgId: ORG,
    summary: `organizationMembership.created ${USER} in ${ORG} → Clerk_Membership__c`,
  },
  'organizationMembership.updated': {
    workflowType: 'syncMembership',
    userId: USER,
    orgId: ORG,
    summary: `organizationMembership.updated ${USER} in ${ORG} → Clerk_Membership__c`,
  },
  'organizationMembership.deleted': {
    workflowType: 'removeMembership',
    userId: USER,
    orgId: ORG,
    summary: `organizationMembership.deleted ${USER} in ${ORG} → Clerk_Membership__c`,
  },
};

describe('a valid delivery of a routed event', () => {
  test.each(Object.entries(expected))(
    '%s starts exactly one workflow keyed on the svix-id',
    async (type, want) => {
      const event = loadFixture(type);
      const res = await api.postEvent(event);

      expect(res.status).toBe(202);
      expect(res.body).toEqual({ status: 'started', workflowId: res.svixId });

      const handle = env.client.workflow.getHandle(res.svixId);
      const description = await handle.describe();
      expect(description.type).toBe(want.workflowType);
      expect(description.status.name).toBe('RUNNING');
      expect(await description.staticSummary()).toBe(want.summary);
      const sa = description.typedSearchAttributes;
      expect(sa.get(ClerkMessageId)).toBe(res.svixId);
      expect(sa.get(ClerkEventType)).toBe(type);
      expect(sa.get(ClerkUserId)).toBe(want.userId);
      expect(sa.get(ClerkOrganizationId)).toBe(want.orgId);

      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const [input] = await Promise.all(
        (started?.input?.payloads ?? []).map((p) =>
          env.client.options.loadedDataConverter.payloadConverter.fromPayload(p),
        ),
      );
      expect(input).toEqual({ svixId: res.svixId, type, timestamp: event.timestamp, data: event.data });
      await handle.terminate('test done');
    },
  );

  it('normalises an envelope timestamp given in seconds to milliseconds', async () => {
    const event = { ...loadFixture('user.updated'), timestamp: 1732540860 };
    const res = await api.postEvent(event);
    const history = await env.client.workflow.getHandle(res.svixId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = env.client.options.loadedDataConverter.payloadConverter.fromPayload<{ timestamp: number }>(
      payload!,
    );
    expect(input.timestamp).toBe(1732540860000);
    await env.client.workflow.getHandle(res.svixId).terminate('test done');
  });

  it('accepts the Standard Webhooks header names (webhook-id, webhook-timestamp, webhook-signature)', async () => {
    const body = JSON.stringify(loadFixture('user.created'));
    const signed = signDelivery(SECRET, body);
    const res = await fetch(`${api.url}/webhooks/clerk`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': signed.headers['svix-id'],
        'webhook-timestamp': signed.headers['svix-timestamp'],
        'webhook-signature': signed.headers['svix-signature'],
      },
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'started', workflowId: signed.svixId });
    await env.client.workflow.getHandle(signed.svixId).terminate('test done');
  });

  it('answers `ignored` for event types it does not act on, and starts nothing', async () => {
    for (const type of [
      'session.created',
      'email.created',
      'subscription.pastDue',
      'organizationInvitation.accepted',
    ]) {
      const res = await api.postEvent({ ...loadFixture('session.created'), type });
      expect(res).toMatchObject({ status: 200, body: { status: 'ignored' } });
      await expect(env.client.workflow.getHandle(res.svixId).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
    }
  });
});
