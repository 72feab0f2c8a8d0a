import { createClerkClient } from '@clerk/backend';
import { IncomingWebhook } from '@slack/webhook';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { Resend } from 'resend';
import { emailActivities } from '../../src/activities/email';
import { slackActivities } from '../../src/activities/slack';
import { boundedClerkClient, salesforceSession } from '../../src/clients';
import { loadConfig, type SalesforceConfig } from '../../src/config';
import { DeadlineExceeded, withDeadline } from '../../src/deadline';
import { createSandbox, type Sandbox } from '@clerk-sync/sandbox';
import * as timeouts from '../../src/timeouts';

// "Nothing hangs" at the client level, against the sandbox with short limits: each outbound call gives up at its
// limit, or at once when its activity is cancelled. test/e2e/hangs.test.ts plays the same through Temporal.

const logger = pino({ level: 'silent' });
const TOKEN = '/services/oauth2/token';

let sandbox: Sandbox;
let salesforceConfig: SalesforceConfig;
beforeAll(async () => {
  sandbox = await createSandbox();
  salesforceConfig = loadConfig({ ...sandbox.env, WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>' }).salesforce!;
});
afterEach(() => sandbox.reset());
afterAll(() => sandbox.close());

const hang = (service: 'salesforce' | 'clerk' | 'resend' | 'slack', path?: string) =>
  sandbox.faults.add({ service, ...(path && { path }), hang: true, times: 1 });

/** How long a promise took to settle, and how. */
async function timed<T>(p: PromiseLike<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/** An activity context to cancel; it logs nothing (a cancelled activity's failure is expected here). */
const activityEnv = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

const aborted = (service: Parameters<Sandbox['calls']>[0]) =>
  sandbox.calls(service).filter((c) => c.aborted).length;

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the limits', () => {
  it('each request limit is at most half of its activity’s start-to-close timeout', () => {
    const activity = timeouts.ACTIVITY_START_TO_CLOSE_MS;
    expect(timeouts.SALESFORCE_REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(activity.salesforce / 2);
    expect(timeouts.SALESFORCE_TOKEN_TIMEOUT_MS).toBeLessThanOrEqual(activity.salesforce / 2);
    expect(timeouts.CLERK_REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(activity.clerk / 2);
    expect(timeouts.RESEND_REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(activity.email / 2);
    // Slack's is longer than half: a retried post is a second notice, so a slow answer is worth waiting for.
    expect(timeouts.SLACK_REQUEST_TIMEOUT_MS).toBeLessThan(activity.slack);
    // A long activity heartbeats between its calls: one call must end well before the heartbeat timeout.
    for (const ms of [timeouts.SALESFORCE_REQUEST_TIMEOUT_MS, timeouts.CLERK_REQUEST_TIMEOUT_MS]) {
      expect(ms).toBeLessThanOrEqual(timeouts.LONG_ACTIVITY_HEARTBEAT_MS / 2);
    }
  });
});

describe('withDeadline', () => {
  it('answers what the call answers, and leaves no timer behind', async () => {
    await expect(withDeadline('quick', 50, () => Promise.resolve(7))).resolves.toBe(7);
    await expect(withDeadline('throws', 50, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
  });

  it('gives up at the limit with DeadlineExceeded, and aborts the signal it gave the call', async () => {
    let signal: AbortSignal | undefined;
    const { ms, error } = await timed(
      withDeadline('Never', 100, (s) => {
        signal = s;
        return new Promise(() => undefined);
      }),
    );
    expect(error).toBeInstanceOf(DeadlineExceeded);
    expect((error as Error).message).toBe('Never: no answer within 0.1 s');
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(signal?.aborted).toBe(true);
  });

  it('gives up at once when the activity is cancelled, with Temporal’s CancelledFailure', async () => {
    const env = activityEnv();
    setTimeout(() => env.cancel(), 100);
    const { ms, error } = await timed(
      env.run(() => withDeadline('Never', 60_000, () => new Promise(() => undefined))),
    );
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(ms).toBeLessThan(1_000);
  });

  it('lets the call finish when the worker shuts down (WORKER_SHUTDOWN): an accepted email is not sent again', async () => {
    const env = activityEnv();
    setTimeout(() => env.cancel('WORKER_SHUTDOWN'), 50);
    const answer = env.run(() =>
      withDeadline('Slow', 5_000, () => new Promise((resolve) => setTimeout(() => resolve('done'), 200))),
    );
    await expect(answer).resolves.toBe('done');
  });

  it('still gives up at the limit once the worker is shutting down', async () => {
    const env = activityEnv();
    env.cancel('WORKER_SHUTDOWN');
    const { error } = await timed(
      env.run(() => withDeadline('Never', 100, () => new Promise(() => undefined))),
    );
    expect(error).toBeInstanceOf(DeadlineExceeded);
  });
});

describe('Salesforce (jsforce through the bounded transport)', () => {
  it('a hung request fails at the limit, and jsforce closes its socket a second later', async () => {
    const session = salesforceSession(salesforceConfig, logger, { requestMs: 300, tokenMs: 300 });
    const conn = await session.connection();
    hang('salesforce', '^/services/data/v[0-9.]+/query');
    const { ms, error } = await timed(conn.query('SELECT Id FROM Contact LIMIT 1'));
    expect(error).toBeInstanceOf(DeadlineExceeded);
    expect((error as Error).message).toMatch(
      /^Salesforce GET \/(salesforce\/)?services\/data\/v[0-9.]+\/query: no answer within 0.3 s$/,
    );
    expect(ms).toBeLessThan(1_000);
    await waitUntil(() => aborted('salesforce') === 1);
    // The next request is not held up by the hung one.
    await expect(conn.query('SELECT Id FROM Contact LIMIT 1')).resolves.toMatchObject({ done: true });
  });

  it('makes one request per call: a 503 reaches the classifier at once, not after jsforce retried it', async () => {
    const session = salesforceSession(salesforceConfig, logger, { requestMs: 5_000, tokenMs: 5_000 });
    const conn = await session.connection();
    const before = sandbox.calls('salesforce').filter((c) => c.path.includes('/query')).length;
    sandbox.faults.add({
      service: 'salesforce',
      path: '^/services/data/v[0-9.]+/query',
      status: 503,
      body: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'down for a moment' }],
      times: 1,
    });
    const { error } = await timed(conn.query('SELECT Id FROM Contact LIMIT 1'));
    expect(error).toBeDefined();
    expect(sandbox.calls('salesforce').filter((c) => c.path.includes('/query')).length - before).toBe(1);
  });

  it('a hung OAuth token request fails the callers waiting for it once; the next call gets a token', async () => {
    const session = salesforceSession(salesforceConfig, logger, { requestMs: 1_000, tokenMs: 300 });
    hang('salesforce', TOKEN);
    const waiting = await Promise.all([timed(session.connection()), timed(session.connection())]);
    for (const { ms, error } of waiting) {
      expect(error).toBeInstanceOf(DeadlineExceeded);
      expect(ms).toBeLessThan(1_000);
    }
    // Single-flight: the two callers shared one request (logged once jsforce has closed it).
    await waitUntil(() => aborted('salesforce') === 1);
    expect(sandbox.calls('salesforce').filter((c) => c.path === TOKEN)).toHaveLength(1);
    const conn = await session.connection();
    expect(conn.accessToken).toBeTruthy();
    expect(sandbox.calls('salesforce').filter((c) => c.path === TOKEN)).toHaveLength(2);
  });

  it('one activity’s cancellation stops its own wait for the token, not the request the others share', async () => {
    const session = salesforceSession(salesforceConfig, logger, { requestMs: 1_000, tokenMs: 2_000 });
    sandbox.faults.add({ service: 'salesforce', path: TOKEN, latencyMs: 400, times: 1 });
    const env = activityEnv();
    const cancelled = timed(env.run(() => session.connection()));
    const other = timed(session.connection());
    setTimeout(() => env.cancel(), 100);
    const [a, b] = await Promise.all([cancelled, other]);
    expect(a.error).toBeInstanceOf(CancelledFailure);
    expect(a.ms).toBeLessThan(300);
    expect(b.error).toBeUndefined();
    expect(b.value?.accessToken).toBeTruthy();
  });

  it('a hung token refresh (INVALID_SESSION_ID) fails the request at the token limit', async () => {
    const session = salesforceSession(salesforceConfig, logger, { requestMs: 1_000, tokenMs: 300 });
    const conn = await session.connection();
    conn.accessToken = 'expired';
    hang('salesforce', TOKEN);
    const { ms, error } = await timed(conn.query('SELECT Id FROM Contact LIMIT 1'));
    expect((error as Error).message).toMatch(/Salesforce OAuth token refresh: no answer within 0.3 s/);
    expect(ms).toBeLessThan(1_000);
    // No refresh is left pending: the next request refreshes and passes.
    await expect(conn.query('SELECT Id FROM Contact LIMIT 1')).resolves.toMatchObject({ done: true });
  });

  it('a cancelled activity stops waiting for its request at once', async () => {
    const session = salesforceSession(salesforceConfig, logger, { requestMs: 5_000, tokenMs: 1_000 });
    const conn = await session.connection();
    hang('salesforce', '^/services/data/v[0-9.]+/composite$');
    const env = activityEnv();
    setTimeout(() => env.cancel(), 100);
    const { ms, error } = await timed(
      env.run(() => conn.requestPost('/composite', { allOrNone: false, compositeRequest: [] })),
    );
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(ms).toBeLessThan(1_000);
  });
});

describe('Clerk (every API method bounded)', () => {
  const clerk = (timeoutMs: number) =>
    boundedClerkClient(
      createClerkClient({ secretKey: sandbox.env.CLERK_SECRET_KEY, apiUrl: sandbox.env.CLERK_API_URL }),
      timeoutMs,
    );

  it('answers as the SDK does', async () => {
    const list = await clerk(2_000).users.getUserList({ limit: 2 });
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.totalCount).toBeGreaterThan(0);
  });

  it('a hung call fails at the limit', async () => {
    hang('clerk');
    const { ms, error } = await timed(clerk(300).organizations.getOrganizationList({ limit: 1 }));
    expect((error as Error).message).toBe('Clerk organizations.getOrganizationList: no answer within 0.3 s');
    expect(ms).toBeLessThan(1_000);
  });

  it('a hung call fails at once when the activity is cancelled', async () => {
    hang('clerk');
    const client = clerk(5_000);
    const env = activityEnv();
    setTimeout(() => env.cancel(), 100);
    const { ms, error } = await timed(env.run(() => client.users.getUserList({ limit: 1 })));
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(ms).toBeLessThan(1_000);
  });
});

describe('Resend and Slack activities', () => {
  const settings = { from: 'Acme <hello@acme.test>', subject: 'Welcome' };
  const email = () =>
    emailActivities(
      new Resend(sandbox.env.RESEND_API_KEY, { baseUrl: sandbox.env.RESEND_BASE_URL }),
      settings,
    );
  const input = { userId: 'user_1', to: 'ada@example.com', firstName: 'Ada' };

  it('a cancelled email send is aborted: the request is closed, not left hanging', async () => {
    hang('resend');
    const env = activityEnv();
    setTimeout(() => env.cancel(), 100);
    const { ms, error } = await timed(env.run(() => email().sendWelcomeEmail(input)));
    expect(error).toBeDefined();
    expect(ms).toBeLessThan(1_000);
    await waitUntil(() => aborted('resend') === 1);
    expect(sandbox.services.resend.emails()).toHaveLength(0);
  });

  it('a Slack notice posts only the text (no client option leaks into the payload)', async () => {
    const posted: unknown[] = [];
    const slack = new IncomingWebhook(sandbox.env.SLACK_WEBHOOK_URL, {
      timeout: 1_000,
      fetch: (_url, init) => {
        posted.push(JSON.parse(init?.body as string));
        return Promise.resolve(new Response('ok'));
      },
    });
    await expect(slackActivities(slack).postSlackMessage({ text: 'hello' })).resolves.toBe('posted');
    expect(posted).toEqual([{ text: 'hello' }]);
  });

  it('a hung Slack post fails at the client’s timeout', async () => {
    hang('slack');
    const slack = new IncomingWebhook(sandbox.env.SLACK_WEBHOOK_URL, { timeout: 300 });
    const { ms, error } = await timed(slackActivities(slack).postSlackMessage({ text: 'hello' }));
    expect((error as { type?: string }).type).toBe('SlackUnavailable');
    expect(ms).toBeLessThan(1_000);
  });
});
