import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook } from '@clerk-sync/sandbox';
import {
  CLERK_REQUEST_TIMEOUT_MS,
  RESEND_REQUEST_TIMEOUT_MS,
  SALESFORCE_TOKEN_TIMEOUT_MS,
} from '../../src/timeouts';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// Issue 11 "Nothing hangs": a service that never answers costs the activity one attempt, failed at the call's own
// limit (src/timeouts.ts) with a retryable "no answer" reason, and the sync still completes. Real limits, real
// Temporal: each case takes about its limit plus the one-second first retry.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sandbox.faults.clear());

const TOKEN = '/services/oauth2/token';
const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;

let people = 0;
/** A sign-up in the sandbox's Clerk, delivered as Svix would; its workflow id. */
async function signUp(): Promise<{ svixId: string; userId: string; address: string }> {
  people += 1;
  const address = `grace${people}@example.com`;
  const event = stack.sandbox.services.clerk.createUser({
    firstName: 'Grace',
    lastName: 'Hopper',
    emailAddress: [address],
  });
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event);
  expect(res.body).toEqual({ status: 'started', workflowId: res.svixId });
  return { svixId: res.svixId, userId: idOf(event), address };
}

/** Waits for the run's result, and how long it took from now. */
async function finish(svixId: string): Promise<{ result: unknown; ms: number }> {
  const started = performance.now();
  const result = await stack.env.client.workflow.getHandle(svixId).result();
  return { result, ms: performance.now() - started };
}

/** The attempt that completed `activity`, and the failure of the attempt before it (on its started event). */
async function closingAttempt(
  svixId: string,
  activity: string,
): Promise<{ attempt?: number; lastFailure?: string }> {
  const events = (await stack.env.client.workflow.getHandle(svixId).fetchHistory()).events ?? [];
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
  );
  const started = events
    .map((e) => e.activityTaskStartedEventAttributes)
    .find((a) => a && scheduled && String(a.scheduledEventId) === String(scheduled.eventId));
  return { attempt: started?.attempt ?? undefined, lastFailure: started?.lastFailure?.message ?? undefined };
}

const callsTo = (service: Parameters<Stack['sandbox']['calls']>[0], path: string | RegExp) =>
  stack.sandbox
    .calls(service)
    .filter((c) => (typeof path === 'string' ? c.path === path : path.test(c.path)));

const emailsTo = (address: string) =>
  stack.sandbox.services.resend.emails().filter((e) => e.to.includes(address));

describe('a service that hangs costs one attempt, and the sync completes', () => {
  // First in the file: the worker has not asked for a Salesforce token yet (it asks on the first Salesforce call).
  it('the first OAuth token request hangs forever: a user.created still completes within 2 minutes', async () => {
    const before = callsTo('salesforce', TOKEN).length; // the stack's own connection logged in
    const fault = stack.sandbox.faults.add({
      service: 'salesforce',
      method: 'POST',
      path: TOKEN,
      hang: true,
      times: 1,
    });
    const { svixId, address } = await signUp();

    const { result, ms } = await finish(svixId);
    expect(result).toEqual({ contact: 'created', memberships: 0, welcomeEmail: 'sent' });
    expect(ms).toBeLessThan(120_000);
    // One failed attempt, at the token limit, then the retry asks for a token again.
    expect(ms).toBeGreaterThanOrEqual(SALESFORCE_TOKEN_TIMEOUT_MS);
    expect(ms).toBeLessThan(SALESFORCE_TOKEN_TIMEOUT_MS + 15_000);
    expect(await closingAttempt(svixId, 'onboardContact')).toEqual({
      attempt: 2,
      lastFailure: `NO_RESPONSE: Salesforce OAuth token request: no answer within ${SALESFORCE_TOKEN_TIMEOUT_MS / 1000} s`,
    });
    expect(emailsTo(address)).toHaveLength(1);
    // The hung request was closed by the client, not left open; the next one got the token.
    await waitUntil(() => callsTo('salesforce', TOKEN).length === before + 2, 5_000, 'both token requests');
    const [hung, next] = callsTo('salesforce', TOKEN).slice(before);
    expect(hung).toMatchObject({ faultId: fault, aborted: true, status: 0 });
    expect(next).toMatchObject({ status: 200 });
  }, 150_000);

  it('a hung Clerk call (the user’s memberships) costs one attempt', async () => {
    const memberships = /^\/v1\/users\/[^/]+\/organization_memberships$/;
    stack.sandbox.faults.add({
      service: 'clerk',
      method: 'GET',
      path: memberships.source,
      hang: true,
      times: 1,
    });
    const { svixId, address } = await signUp();

    const { result, ms } = await finish(svixId);
    expect(result).toEqual({ contact: 'created', memberships: 0, welcomeEmail: 'sent' });
    expect(ms).toBeGreaterThanOrEqual(CLERK_REQUEST_TIMEOUT_MS);
    expect(ms).toBeLessThan(CLERK_REQUEST_TIMEOUT_MS + 15_000);
    expect(await closingAttempt(svixId, 'onboardContact')).toEqual({
      attempt: 2,
      lastFailure: `NO_RESPONSE unexpected_error: Clerk users.getOrganizationMembershipList: no answer within ${CLERK_REQUEST_TIMEOUT_MS / 1000} s`,
    });
    expect(emailsTo(address)).toHaveLength(1);
  }, 60_000);

  it('a hung Resend call (the welcome email) costs one attempt, and the email goes out once', async () => {
    stack.sandbox.faults.add({ service: 'resend', method: 'POST', path: '/emails', hang: true, times: 1 });
    const { svixId, address } = await signUp();

    const { result, ms } = await finish(svixId);
    expect(result).toEqual({ contact: 'created', memberships: 0, welcomeEmail: 'sent' });
    expect(ms).toBeGreaterThanOrEqual(RESEND_REQUEST_TIMEOUT_MS);
    expect(ms).toBeLessThan(RESEND_REQUEST_TIMEOUT_MS + 15_000);
    expect(await closingAttempt(svixId, 'sendWelcomeEmail')).toEqual({
      attempt: 2,
      lastFailure: `NO_RESPONSE application_error: Resend POST /emails: no answer within ${RESEND_REQUEST_TIMEOUT_MS / 1000} s`,
    });
    expect(emailsTo(address)).toHaveLength(1);
    // Resend's SDK takes a signal: the hung request itself was aborted, not just abandoned.
    const posts = callsTo('resend', '/emails').filter((c) => c.method === 'POST');
    expect(posts.filter((c) => c.aborted)).toHaveLength(1);
  }, 60_000);
});
