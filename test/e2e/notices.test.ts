import { mkdirSync, writeFileSync } from 'node:fs';
import { deliverWebhook, slackFault, type ClerkEvent } from '@clerk-sync/sandbox';
import { notifierWorkflowId } from '../../src/shared/notices';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// Issue 13: Slack notices keep up with any sign-up rate. Everything that became true within about a second goes out
// as one message, at most about one message a second, and a worker restart loses none.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Sign-ups made in the sandbox's Clerk, as Clerk would send them. */
function signUps(n: number, lastName: string): ClerkEvent[] {
  return Array.from({ length: n }, (_, i) =>
    stack.sandbox.services.clerk.createUser({
      firstName: 'Notice',
      lastName: `${lastName}${i}`,
      emailAddress: [`notice.${lastName.toLowerCase()}${i}@example.com`],
    }),
  );
}

const userIdOf = (e: ClerkEvent) => (e.data as { id: string }).id;

/** Every line Slack received that names one of `users`, with when its message arrived (epoch ms). */
function noticeLines(users: ReadonlySet<string>): { userId: string; at: number }[] {
  return stack.sandbox.services.slack.messages().flatMap((m) =>
    (m.text ?? '').split('\n').flatMap((line) => {
      const userId = /^New sign-up: .* \((user_[^)]+)\)$/.exec(line)?.[1];
      return userId && users.has(userId) ? [{ userId, at: m.at }] : [];
    }),
  );
}

/** When each of these users' Contact was created in Salesforce (epoch ms). */
function contactsCreated(users: ReadonlySet<string>): Map<string, number> {
  const created = new Map<string, number>();
  for (const c of stack.sandbox.services.salesforce.records('Contact')) {
    const id = c.Clerk_User_Id__c as string;
    if (users.has(id)) created.set(id, Date.parse(c.CreatedDate as string));
  }
  return created;
}

/** The most messages Slack received in any `windowMs` (sliding window). */
function mostMessagesIn(windowMs: number): number {
  const times = stack.sandbox.services.slack
    .messages()
    .map((m) => m.at)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

describe('Slack notices', () => {
  /** The burst's notice delays (Contact written → its message in Slack), ms, sorted; set by the first test. */
  let delays: number[] = [];

  it('200 sign-ups posted at once: every notice exactly once, batched, never more than 12 messages in 10 s', async () => {
    stack.sandbox.services.slack.reset();
    const events = signUps(200, 'Burst');
    const users = new Set(events.map(userIdOf));
    const answers = await Promise.all(
      // Jest's one process runs the API, the workers and the sandbox: under a burst an answer can take longer than
      // Svix's 15 s here, which says nothing of the product's answer time (test/api covers that).
      events.map((e) =>
        deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, e, {
          signal: AbortSignal.timeout(60_000),
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(events.map(() => 202));

    const lines = await waitUntil(
      () => {
        const found = noticeLines(users);
        return new Set(found.map((l) => l.userId)).size === users.size && found;
      },
      120_000,
      'every notice',
    );
    // No notice twice, and nothing late drifting in after the last one.
    await Promise.all(answers.map((a) => stack.client.workflow.getHandle(a.svixId).result()));
    expect(noticeLines(users)).toHaveLength(200);
    expect(mostMessagesIn(10_000)).toBeLessThanOrEqual(12);
    // Batched: far fewer messages than notices.
    expect(stack.sandbox.services.slack.messages().length).toBeLessThan(100);

    const created = contactsCreated(users);
    delays = lines.map((l) => l.at - created.get(l.userId)!).sort((a, b) => a - b);
    expect(delays[0]).toBeGreaterThanOrEqual(0);
    mkdirSync('test-output', { recursive: true });
    writeFileSync(
      'test-output/notices-delay.json',
      `${JSON.stringify({ messages: stack.sandbox.services.slack.messages().length, p50: percentile(delays, 50), p99: percentile(delays, 99) })}\n`,
    );
  }, 180_000);

  // Issue 13's target, on the test stack itself (API, sandbox and workers in jest's one process): each notice leaves
  // from the activity that wrote its Contact, in one signal per moment per worker. Measured p50 0.9–1.5 s, p99
  // 2.3–3.0 s at load 0.3–3 on 2 shared cores (test-output/notices-delay.json); the bench measures it with the
  // workers in a process of their own.
  it('…and every notice within 5 s (p99) of its Contact', () => {
    expect(delays).toHaveLength(200);
    expect(percentile(delays, 99)).toBeLessThanOrEqual(5_000);
  });

  it('a Slack 429 is retried after its Retry-After, and the notice goes out once', async () => {
    stack.sandbox.services.slack.reset();
    const limited = stack.sandbox.faults.add(
      slackFault('rate_limited', { times: 1, headers: { 'Retry-After': '2' } }),
    );
    const [event] = signUps(1, 'Limited');
    const users = new Set([userIdOf(event!)]);
    await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event);

    await waitUntil(() => noticeLines(users).length === 1, 30_000, 'the notice after the 429');
    const refused = stack.sandbox.calls('slack').find((c) => c.faultId === limited);
    const posted = stack.sandbox.services.slack.messages().at(-1)!;
    expect(refused).toBeDefined();
    // Not before Slack said it could take it again.
    expect(posted.at - refused!.at).toBeGreaterThanOrEqual(2_000);
    expect(noticeLines(users)).toHaveLength(1);
  }, 60_000);

  it("a restart during Slack's Retry-After: the workers stop at once, the wait is kept, the notice goes out once", async () => {
    stack.sandbox.services.slack.reset();
    const limited = stack.sandbox.faults.add(
      slackFault('rate_limited', { times: 1, headers: { 'Retry-After': '6' } }),
    );
    const [event] = signUps(1, 'Waiting');
    const users = new Set([userIdOf(event!)]);
    await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event);
    await waitUntil(
      () => stack.sandbox.calls('slack').some((c) => c.faultId === limited),
      30_000,
      'the refused post',
    );

    // The message is posted by a local activity: its wait is the notifier's durable timer, not a sleep that a worker
    // shutting down would have to sit out.
    const stopping = Date.now();
    await stack.stopWorkers();
    expect(Date.now() - stopping).toBeLessThan(5_000);
    await stack.startWorkers();

    await waitUntil(() => noticeLines(users).length === 1, 30_000, 'the notice after the restart');
    const refused = stack.sandbox.calls('slack').find((c) => c.faultId === limited)!;
    expect(stack.sandbox.services.slack.messages().at(-1)!.at - refused.at).toBeGreaterThanOrEqual(6_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // nothing posted twice after it
    expect(noticeLines(users)).toHaveLength(1);
  }, 90_000);

  it('notices waiting while the workers restart are all posted, each once', async () => {
    stack.sandbox.services.slack.reset();
    // Slack refuses for now: the notices wait in the notifier's history, one message retrying.
    const down = stack.sandbox.faults.add(slackFault('internal_error', { status: 500 }));
    const events = signUps(30, 'Restart');
    const users = new Set(events.map(userIdOf));
    const answers = await Promise.all(
      events.map((e) => deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, e)),
    );
    await Promise.all(answers.map((a) => stack.client.workflow.getHandle(a.svixId).result()));
    await waitUntil(
      () => stack.sandbox.calls('slack').some((c) => c.faultId === down),
      10_000,
      'a refused post',
    );

    await stack.stopWorkers();
    stack.sandbox.faults.remove(down);
    await stack.startWorkers(); // a new worker: the notifier is replayed from its history

    await waitUntil(() => noticeLines(users).length >= users.size, 60_000, 'every notice after the restart');
    const lines = noticeLines(users);
    expect(lines).toHaveLength(30);
    expect(new Set(lines.map((l) => l.userId))).toEqual(users);
    // The notifier is still the one long-lived workflow of this queue.
    const notifier = await stack.client.workflow
      .getHandle(notifierWorkflowId(stack.config.temporal.taskQueue))
      .describe();
    expect(notifier.status.name).toBe('RUNNING');
  }, 120_000);
});
