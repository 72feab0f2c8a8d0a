import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createSyncActivities } from '../../src/activities';
import { createClients } from '../../src/clients';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook, newSvixId } from '@clerk-sync/sandbox';
import { droppedResponse, resendFault } from '@clerk-sync/sandbox';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// SPEC "The welcome email goes out at most once per user, ever": the run that claims it on the Contact
// (Clerk_Welcome_Email_Claim__c, set once) sends it, under Resend's idempotency key for its own retries.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => stack.sandbox.faults.clear());

const { PendingActivityState } = temporal.api.enums.v1;
const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;

async function deliver(event: ClerkEvent, svixId?: string) {
  const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event, { svixId });
  expect(res.status).toBeLessThan(300);
  return { svixId: res.svixId, status: (res.body as { status: string }).status };
}

const finish = (svixId: string) =>
  stack.env.client.workflow.getHandle(svixId).result() as Promise<{ welcomeEmail: string }>;

let people = 0;
/** A sign-up in the sandbox's Clerk; its webhook is ours to deliver. */
function signUp() {
  people += 1;
  const address = `ada${people}@example.com`;
  const event = stack.sandbox.services.clerk.createUser({
    firstName: 'Ada',
    lastName: 'Lovelace',
    emailAddress: [address],
  });
  return { event, userId: idOf(event), address };
}

const emailsTo = (address: string) =>
  stack.sandbox.services.resend.emails().filter((e) => e.to.includes(address));

async function claimOf(userId: string): Promise<unknown> {
  const { records } = await stack.salesforce.query<{ Clerk_Welcome_Email_Claim__c: unknown }>(
    `SELECT Clerk_Welcome_Email_Claim__c FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  expect(records).toHaveLength(1);
  return records[0]!.Clerk_Welcome_Email_Claim__c;
}

/** The attempt that completed `activity` in the run's history (started events are written when the attempt closes). */
async function completedAttempt(svixId: string, activity: string): Promise<number | undefined> {
  const events = (await stack.env.client.workflow.getHandle(svixId).fetchHistory()).events ?? [];
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
  );
  const started = events
    .map((e) => e.activityTaskStartedEventAttributes)
    .find((a) => a && scheduled && String(a.scheduledEventId) === String(scheduled.eventId));
  return started?.attempt ?? undefined;
}

/** The run's pending activity of that type, once Temporal shows it (scheduled or started). */
function pendingActivity(svixId: string, activity: string, state: 'scheduled' | 'started') {
  return waitUntil(
    async () => {
      const { raw } = await stack.env.client.workflow.getHandle(svixId).describe();
      return raw.pendingActivities?.find(
        (a) =>
          a.activityType?.name === activity &&
          (state === 'scheduled' || a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED),
      );
    },
    10_000,
    `${activity} ${state}`,
  );
}

describe('the welcome email', () => {
  it('goes out once for a user.created delivered 3× under one svix-id and replayed 2× under new ones, all at once', async () => {
    const { event, userId, address } = signUp();
    const svixId = newSvixId();
    const answers = await Promise.all([
      deliver(event, svixId),
      deliver(event, svixId),
      deliver(event, svixId),
      deliver(event, newSvixId()),
      deliver(event, newSvixId()),
    ]);
    expect(
      answers
        .filter((a) => a.svixId === svixId)
        .map((a) => a.status)
        .sort(),
    ).toEqual(['duplicate', 'duplicate', 'started']);
    const runs = [...new Set(answers.map((a) => a.svixId))];
    expect(runs).toHaveLength(3);
    const results = await Promise.all(runs.map(finish));

    expect(results.map((r) => r.welcomeEmail).sort()).toEqual(['not this run', 'not this run', 'sent']);
    const emails = emailsTo(address);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      from: 'Acme <hello@acme.test>',
      to: [address],
      subject: 'Welcome to Acme',
      idempotencyKey: `welcome-email/${userId}`,
    });
    expect(emails[0]!.text).toContain('Hi Ada,');
    expect(emails[0]!.html).toContain('<p>Hi Ada,</p>');
    // The Contact remembers which delivery owns the email: the one whose run sent it.
    expect(await claimOf(userId)).toBe(runs[results.findIndex((r) => r.welcomeEmail === 'sent')]);
  });

  it('goes out once when the workers stop after Salesforce claimed it and new workers finish the run', async () => {
    const { event, userId, address } = signUp();
    // Only the sync worker runs: the run claims the email on the Contact, then waits for the email queue.
    await stack.stopWorkers();
    const syncOnly = await Worker.create({
      connection: stack.env.nativeConnection,
      taskQueue: stack.config.temporal.taskQueue,
      workflowBundle: { codePath: process.env.CLERK_SYNC_TEST_BUNDLE! },
      activities: createSyncActivities(createClients(stack.config, pino({ level: 'silent' }))),
    });
    const running = syncOnly.run();
    let svixId: string;
    try {
      ({ svixId } = await deliver(event));
      await pendingActivity(svixId, 'sendWelcomeEmail', 'scheduled');
      expect(await claimOf(userId)).toBe(svixId);
      expect(emailsTo(address)).toHaveLength(0);
    } finally {
      syncOnly.shutdown();
      await running;
      await stack.startWorkers(); // fresh workers replay the run's history and carry on from the claim
    }
    expect(await finish(svixId)).toMatchObject({ welcomeEmail: 'sent' });
    expect(emailsTo(address)).toHaveLength(1);
  });

  it('goes out once when the workers are stopped while the email request is in flight, then started again', async () => {
    const { event, address } = signUp();
    stack.sandbox.faults.add({
      service: 'resend',
      method: 'POST',
      path: '/emails',
      latencyMs: 1_500,
      times: 1,
    });
    const { svixId } = await deliver(event);
    await pendingActivity(svixId, 'sendWelcomeEmail', 'started');

    await stack.stopWorkers(); // graceful: the in-flight attempt finishes and reports
    await stack.startWorkers();
    expect(await finish(svixId)).toMatchObject({ welcomeEmail: 'sent' });
    expect(await completedAttempt(svixId, 'sendWelcomeEmail')).toBe(1);
    expect(emailsTo(address)).toHaveLength(1);
  });

  it('goes out once when Resend fails twice after Salesforce claimed it: the retries send it on the third attempt', async () => {
    const { event, userId, address } = signUp();
    const fault = stack.sandbox.faults.add(
      resendFault('application_error', { method: 'POST', path: '/emails', times: 2 }),
    );
    const { svixId } = await deliver(event);

    expect(await finish(svixId)).toMatchObject({ welcomeEmail: 'sent' });
    expect(
      stack.sandbox
        .calls('resend')
        .filter((c) => c.faultId === fault)
        .map((c) => c.status),
    ).toEqual([500, 500]);
    expect(await completedAttempt(svixId, 'sendWelcomeEmail')).toBe(3);
    expect(await claimOf(userId)).toBe(svixId);
    expect(emailsTo(address)).toHaveLength(1);
  });

  it('goes out once when its run failed for good after the claim: a replay is not that delivery, its redelivery is', async () => {
    const { event, userId, address } = signUp();
    stack.sandbox.faults.add(
      resendFault('validation_error', { status: 422, method: 'POST', path: '/emails', times: 1 }),
    );
    const { svixId } = await deliver(event);
    await expect(finish(svixId)).rejects.toThrow();
    expect(await claimOf(userId)).toBe(svixId);
    expect(emailsTo(address)).toHaveLength(0);

    // A replay under a new svix-id does not own the claim; Svix's redelivery of the failed one does.
    const replay = await deliver(event);
    expect(await finish(replay.svixId)).toMatchObject({ welcomeEmail: 'not this run' });
    expect(await deliver(event, svixId)).toEqual({ svixId, status: 'started' });
    expect(await finish(svixId)).toMatchObject({ welcomeEmail: 'sent' });
    expect(emailsTo(address)).toHaveLength(1);
  });

  it("goes out once when Resend's answer was lost, the run terminated after the send, and it is replayed once Resend forgot the key", async () => {
    const { event, userId, address } = signUp();
    // Resend sends the email, then its answer is lost — on every attempt, so the run never learns it was sent.
    stack.sandbox.faults.add(droppedResponse('resend', { method: 'POST', path: '/emails' }));
    const { svixId } = await deliver(event);
    await waitUntil(() => emailsTo(address).length > 0, 30_000);
    await stack.client.workflow.getHandle(svixId).terminate('operator gave up on a stuck sync');
    stack.sandbox.faults.clear();
    stack.sandbox.services.resend.forgetIdempotencyKeys(); // as if 24 hours had passed

    // Svix's redelivery of the same message (or `clerk-sync replay`) starts a new run of the same delivery.
    expect(await deliver(event, svixId)).toEqual({ svixId, status: 'started' });
    expect(await finish(svixId)).toMatchObject({ contact: 'unchanged', welcomeEmail: 'not this run' });
    expect(await claimOf(userId)).toBe(svixId);
    expect(emailsTo(address)).toHaveLength(1);
  });

  it('never goes out again for a later user.created, even once Resend has forgotten its idempotency key', async () => {
    const { event, userId, address } = signUp();
    const first = await deliver(event);
    expect(await finish(first.svixId)).toMatchObject({ welcomeEmail: 'sent' });

    const replay = await deliver(event);
    expect(await finish(replay.svixId)).toMatchObject({ welcomeEmail: 'not this run' });
    expect(emailsTo(address)).toHaveLength(1);

    // 24 h later Resend no longer knows `welcome-email/<user>`: only the claim on the Contact stands.
    stack.sandbox.services.resend.reset();
    const emailCalls = stack.sandbox.calls('resend').length;
    const late = await deliver(event);
    expect(await finish(late.svixId)).toMatchObject({ welcomeEmail: 'not this run' });
    expect(stack.sandbox.calls('resend')).toHaveLength(emailCalls);
    expect(emailsTo(address)).toHaveLength(0);
    expect(await claimOf(userId)).toBe(first.svixId);
  });

  it('goes out on user.created even when a membership created the Contact first; user.updated never sends one', async () => {
    const clerk = stack.sandbox.services.clerk;
    const { event, userId, address } = signUp();
    const organizationId = idOf(clerk.createOrganization({ name: `Analytical Engines ${people}` }));
    const joined = clerk.addMembership({ organizationId, userId, role: 'org:member' });
    const renamed = clerk.updateUser(userId, { firstName: 'Augusta Ada' });

    await finish((await deliver(joined)).svixId);
    expect(await finish((await deliver(renamed)).svixId)).toEqual({ contact: 'updated' });
    expect(emailsTo(address)).toHaveLength(0);
    expect(await finish((await deliver(event)).svixId)).toMatchObject({ welcomeEmail: 'sent' });
    expect(emailsTo(address)).toHaveLength(1);
  });
});
