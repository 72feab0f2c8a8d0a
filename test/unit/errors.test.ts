import {
  ApplicationFailure,
  CancelledFailure,
  msOptionalToNumber,
  type MetricMeter,
} from '@temporalio/common';
import { IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { Connection } from 'jsforce';
import pino from 'pino';
import { createCredentialAlerts, CREDENTIAL_REJECTIONS_METRIC } from '../../src/activities/credential-alerts';
import {
  classified,
  classifyClerk,
  classifyResend,
  classifySalesforce,
  classifySlack,
  SlackRateLimited,
  credentialRejectionOf,
  credentialRetryDelayMs,
  ResendError,
  SalesforceError,
  type CredentialRejection,
} from '../../src/activities/errors';
import { createClients, salesforceSession, SALESFORCE_REFUSAL_REUSE_MS } from '../../src/clients';
import { loadConfig, type SalesforceConfig } from '../../src/config';
import { DeadlineExceeded, withDeadline } from '../../src/deadline';
import { createSandbox, slackFault, type Sandbox } from '@clerk-sync/sandbox';

// activities/errors.ts is the only place that decides retries: one row per rule. Errors are the clients' own where
// it is cheap (jsforce against the sandbox, Clerk's ClerkAPIResponseError), else the shape the classifier reads.

/** What a test reads of a failure: its type, whether Temporal retries it, the wait it asks for, its message. */
const decision = (f: ApplicationFailure) => ({
  type: f.type,
  retryable: !f.nonRetryable,
  nextRetryDelayMs: msOptionalToNumber(f.nextRetryDelay ?? undefined),
  message: f.message,
});

/** jsforce's error for a token endpoint's `{error, error_description}` answer (oauth2.ts `_postParams`). */
const oauthError = (error: string, description: string) =>
  Object.assign(new Error(description), { name: error });

/** The errors `@slack/webhook` 8 throws: an HTTP answer, or none (a 429 is raised by our fetch: src/clients.ts). */
const slackError = (status: number, body = 'invalid_payload') =>
  new IncomingWebhookHTTPError(status, '', body);
const slackRateLimited = (retryAfterSeconds?: number) =>
  new IncomingWebhookRequestError(new SlackRateLimited(retryAfterSeconds));

/** `ClerkAPIResponseError` of @clerk/backend as the classifier reads it: `status`, `retryAfter` (s), `errors`. */
const clerkError = (status: number, code: string, message: string, retryAfter?: number) =>
  Object.assign(new Error(message), {
    name: 'ClerkAPIResponseError',
    status,
    retryAfter,
    errors: [{ code, message, longMessage: message }],
  });

describe('the retry interval while a credential is refused', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [6, 32_000],
    [7, 60_000],
    [1_000, 60_000],
    [undefined, 60_000],
  ])('after attempt %p: %p ms (1 s doubling, capped at a minute)', (attempt, ms) => {
    expect(credentialRetryDelayMs(attempt)).toBe(ms);
  });
});

describe('Salesforce', () => {
  it.each([
    [
      'invalid_client (a wrong secret)',
      oauthError('invalid_client', 'invalid client credentials'),
      'invalid_client: invalid client credentials — check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET',
    ],
    [
      'invalid_client_id (a wrong consumer key)',
      oauthError('invalid_client_id', 'client identifier invalid'),
      'invalid_client_id: client identifier invalid — check SALESFORCE_CLIENT_ID',
    ],
    [
      'invalid_grant (no run-as user)',
      oauthError('invalid_grant', 'no client credentials user enabled'),
      "invalid_grant: no client credentials user enabled — check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET and the connected app's client credentials run-as user",
    ],
    [
      'invalid_request (login.salesforce.com instead of My Domain)',
      oauthError('invalid_request', 'request not supported on this domain'),
      'invalid_request: request not supported on this domain — check SALESFORCE_LOGIN_URL (the client credentials flow needs the My Domain URL)',
    ],
    [
      'a refresh refused (jsforce keeps only the message)',
      new Error('Unable to refresh session due to: invalid_client: invalid client credentials'),
      'invalid_client: invalid client credentials — check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET',
    ],
    [
      'a fixed session refused',
      new Error(
        'Unable to refresh session due to: INVALID_SESSION_ID: Salesforce no longer accepts the access token',
      ),
      'INVALID_SESSION_ID: Salesforce no longer accepts the access token — check SALESFORCE_ACCESS_TOKEN / SALESFORCE_INSTANCE_URL (a fixed session is not renewed; the client credentials flow is)',
    ],
  ])('%s: SalesforceAuthRejected naming what to check, retried', (_case, err, message) => {
    const failure = classifySalesforce(err, 3);
    expect(decision(failure)).toEqual({
      type: 'SalesforceAuthRejected',
      retryable: true,
      nextRetryDelayMs: 4_000,
      message,
    });
    expect(credentialRejectionOf(failure)).toMatchObject({
      service: 'salesforce',
      type: 'SalesforceAuthRejected',
    });
  });

  it.each([
    [
      'REQUEST_LIMIT_EXCEEDED: 15 minutes',
      new SalesforceError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', 403),
      15 * 60_000,
    ],
    [
      'REQUEST_LIMIT_EXCEEDED of concurrent long requests: the policy',
      new SalesforceError('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.', 403),
      undefined,
    ],
    [
      'UNABLE_TO_LOCK_ROW: the policy',
      new SalesforceError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record', 400),
      undefined,
    ],
    ['SERVER_UNAVAILABLE', new SalesforceError('SERVER_UNAVAILABLE', 'Server unavailable', 503), undefined],
    [
      'INVALID_SESSION_ID of a renewable session (jsforce has renewed it once already)',
      new SalesforceError('INVALID_SESSION_ID', 'Session expired or invalid', 401),
      undefined,
    ],
    ['ERROR_HTTP_502', new SalesforceError('ERROR_HTTP_502', 'Bad Gateway'), undefined],
    ['no answer in time', new DeadlineExceeded('Salesforce POST /composite', 20_000), undefined],
    [
      'rate_limit_exceeded (too many logins): it passes',
      oauthError('rate_limit_exceeded', 'ip rate limit exceeded'),
      undefined,
    ],
    [
      'a token endpoint answering 503 HTML',
      oauthError('ERROR_HTTP_503', '<html>Service Unavailable</html>'),
      undefined,
    ],
  ])('%s: SalesforceUnavailable, retried', (_case, err, nextRetryDelayMs) => {
    const failure = classifySalesforce(err, 3);
    expect(decision(failure)).toMatchObject({
      type: 'SalesforceUnavailable',
      retryable: true,
      nextRetryDelayMs,
    });
    expect(credentialRejectionOf(failure)).toBeUndefined();
  });

  it.each([
    [
      'REQUIRED_FIELD_MISSING',
      new SalesforceError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [LastName]', 400),
    ],
    ['ERROR_HTTP_414', new SalesforceError('ERROR_HTTP_414', 'Request-URI Too Large')],
    [
      'a REST error whose code is not a credential',
      new SalesforceError('INSUFFICIENT_ACCESS', 'insufficient access rights', 403),
    ],
  ])('%s: SalesforceRejected, not retried', (_case, err) => {
    expect(decision(classifySalesforce(err))).toMatchObject({ type: 'SalesforceRejected', retryable: false });
  });

  it('masks email addresses in the message', () => {
    const failure = classifySalesforce(
      new SalesforceError(
        'INVALID_EMAIL_ADDRESS',
        'Email: invalid email address: ada.lovelace@example.com',
        400,
      ),
    );
    expect(failure.message).toBe('INVALID_EMAIL_ADDRESS: Email: invalid email address: [email]');
  });
});

describe('Salesforce through jsforce against the sandbox', () => {
  const logger = pino({ level: 'silent' });
  const TOKEN = '/services/oauth2/token';
  let sandbox: Sandbox;
  let right: Extract<SalesforceConfig, { kind: 'client-credentials' }>;
  beforeAll(async () => {
    sandbox = await createSandbox();
    right = loadConfig({ ...sandbox.env, WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>' })
      .salesforce as typeof right;
  });
  afterEach(() => sandbox.reset());
  afterAll(() => sandbox.close());
  const tokenCalls = () => sandbox.calls('salesforce').filter((c) => c.path === TOKEN).length;
  const failureOf = (p: PromiseLike<unknown>) =>
    Promise.resolve(p).then(
      () => {
        throw new Error('expected a failure');
      },
      (err: unknown) => classifySalesforce(err, 1),
    );

  it('a wrong client secret: SalesforceAuthRejected invalid_client; a second attempt within seconds asks no one', async () => {
    const session = salesforceSession({ ...right, clientSecret: 'not-the-secret' }, logger);
    expect(decision(await failureOf(session.connection()))).toEqual({
      type: 'SalesforceAuthRejected',
      retryable: true,
      nextRetryDelayMs: 1_000,
      message:
        'invalid_client: invalid client credentials — check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET',
    });
    expect(decision(await failureOf(session.connection())).type).toBe('SalesforceAuthRejected');
    expect(tokenCalls()).toBe(1);
    expect(SALESFORCE_REFUSAL_REUSE_MS).toBeLessThanOrEqual(10_000);
  });

  it('a secret revoked while the worker runs: the refresh after the session expired names invalid_client', async () => {
    const session = salesforceSession(right, logger);
    const conn = await session.connection();
    await conn.query('SELECT Id FROM Contact LIMIT 1');
    sandbox.services.salesforce.expireSessions();
    conn.oauth2.clientSecret = 'revoked'; // as if the connected app's secret had been rotated under the worker
    const failure = await failureOf(conn.query('SELECT Id FROM Contact LIMIT 1'));
    expect(decision(failure)).toMatchObject({
      type: 'SalesforceAuthRejected',
      message:
        'invalid_client: invalid client credentials — check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET',
    });
  });

  it('a fixed access token Salesforce refuses: SalesforceAuthRejected INVALID_SESSION_ID naming SALESFORCE_ACCESS_TOKEN', async () => {
    const probe = new Connection({
      oauth2: { loginUrl: right.loginUrl, clientId: right.clientId, clientSecret: right.clientSecret },
      loginUrl: right.loginUrl,
      version: '62.0',
    });
    await probe.authorize({ grant_type: 'client_credentials' });
    const session = salesforceSession(
      { kind: 'session', instanceUrl: probe.instanceUrl, accessToken: 'not-a-session', apiVersion: '62.0' },
      logger,
    );
    const conn = await session.connection();
    const failure = await failureOf(conn.query('SELECT Id FROM Contact LIMIT 1'));
    expect(decision(failure)).toMatchObject({ type: 'SalesforceAuthRejected', retryable: true });
    expect(failure.message).toMatch(/^INVALID_SESSION_ID: .* — check SALESFORCE_ACCESS_TOKEN/);
    // And a token it accepts works as before.
    const good = salesforceSession(
      {
        kind: 'session',
        instanceUrl: probe.instanceUrl,
        accessToken: probe.accessToken!,
        apiVersion: '62.0',
      },
      logger,
    );
    await expect((await good.connection()).query('SELECT Id FROM Contact LIMIT 1')).resolves.toBeDefined();
  });
});

describe('Clerk', () => {
  it('401 clerk_key_invalid (a revoked secret key): ClerkAuthRejected naming CLERK_SECRET_KEY, retried', () => {
    const failure = classifyClerk(clerkError(401, 'clerk_key_invalid', 'Secret key invalid'), 2);
    expect(decision(failure)).toEqual({
      type: 'ClerkAuthRejected',
      retryable: true,
      nextRetryDelayMs: 2_000,
      message: 'clerk_key_invalid: Secret key invalid (401) — check CLERK_SECRET_KEY',
    });
    expect(credentialRejectionOf(failure)).toMatchObject({ service: 'clerk', cause: 'clerk_key_invalid' });
  });

  it.each([
    [
      '429 after its Retry-After',
      clerkError(429, 'too_many_requests', 'Too many requests', 7),
      'ClerkUnavailable',
      true,
      7_000,
    ],
    [
      '503',
      clerkError(503, 'service_unavailable', 'Service unavailable'),
      'ClerkUnavailable',
      true,
      undefined,
    ],
    ['no answer', new TypeError('fetch failed'), 'ClerkUnavailable', true, undefined],
    ['422', clerkError(422, 'form_param_invalid', 'is invalid'), 'ClerkRejected', false, undefined],
    [
      '403 (a permission, not the key)',
      clerkError(403, 'authorization_invalid', 'Unauthorized request'),
      'ClerkRejected',
      false,
      undefined,
    ],
  ])('%s', (_case, err, type, retryable, nextRetryDelayMs) => {
    expect(decision(classifyClerk(err, 2))).toMatchObject({ type, retryable, nextRetryDelayMs });
  });
});

describe('Resend', () => {
  it.each([
    [
      '403 invalid_api_key (a revoked key)',
      new ResendError(403, 'invalid_api_key', 'API key is invalid'),
      'invalid_api_key: API key is invalid (403) — check RESEND_API_KEY',
    ],
    [
      '401 restricted_api_key',
      new ResendError(401, 'restricted_api_key', 'This API key is restricted to only send emails'),
      'restricted_api_key: This API key is restricted to only send emails (401) — check RESEND_API_KEY',
    ],
  ])('%s: ResendAuthRejected naming RESEND_API_KEY, retried', (_case, err, message) => {
    const failure = classifyResend(err, 10);
    expect(decision(failure)).toEqual({
      type: 'ResendAuthRejected',
      retryable: true,
      nextRetryDelayMs: 60_000,
      message,
    });
    expect(credentialRejectionOf(failure)).toMatchObject({ service: 'resend' });
  });

  it.each([
    [
      '409 concurrent_idempotent_requests',
      new ResendError(409, 'concurrent_idempotent_requests', 'in progress'),
      'ResendUnavailable',
      true,
      undefined,
    ],
    [
      '429 after its Retry-After',
      new ResendError(429, 'rate_limit_exceeded', 'Too many requests', 2),
      'ResendUnavailable',
      true,
      2_000,
    ],
    ['no answer', new DeadlineExceeded('Resend POST /emails', 10_000), 'ResendUnavailable', true, undefined],
    [
      '403 validation_error (a domain not verified: not a credential)',
      new ResendError(403, 'validation_error', 'The acme.test domain is not verified'),
      'ResendRejected',
      false,
      undefined,
    ],
    [
      '422',
      new ResendError(422, 'validation_error', 'Invalid `to` field'),
      'ResendRejected',
      false,
      undefined,
    ],
  ])('%s', (_case, err, type, retryable, nextRetryDelayMs) => {
    expect(decision(classifyResend(err, 2))).toMatchObject({ type, retryable, nextRetryDelayMs });
  });

  it('masks email addresses in the message', () => {
    const failure = classifyResend(
      new ResendError(422, 'validation_error', 'Invalid `to` field: ada@example.com'),
    );
    expect(failure.message).toBe('422 validation_error: Invalid `to` field: [email]');
  });
});

describe('Slack', () => {
  it.each([
    ['400 (a bad payload)', slackError(400), 'SlackRejected', false, undefined],
    ['403 (a revoked webhook)', slackError(403), 'SlackRejected', false, undefined],
    ['404', slackError(404), 'SlackRejected', false, undefined],
    ['429 after its Retry-After', slackRateLimited(30), 'SlackUnavailable', true, 30_000],
    ['429 without Retry-After', slackRateLimited(), 'SlackUnavailable', true, undefined],
    ['500', slackError(500, 'service_unavailable'), 'SlackUnavailable', true, undefined],
    [
      'no answer',
      new IncomingWebhookRequestError(new Error('fetch failed')),
      'SlackUnavailable',
      true,
      undefined,
    ],
  ])('%s', (_case, err, type, retryable, nextRetryDelayMs) => {
    expect(decision(classifySlack(err))).toMatchObject({ type, retryable, nextRetryDelayMs });
  });

  it("through the product's client against the sandbox: a 429 keeps its Retry-After, a 403 is final", async () => {
    const sandbox = await createSandbox();
    try {
      const config = loadConfig({ SLACK_WEBHOOK_URL: sandbox.env.SLACK_WEBHOOK_URL });
      const { slack } = createClients(config, pino({ level: 'silent' }));
      const failure = async () => classifySlack(await slack!.send({ text: 'hi' }).catch((e: unknown) => e));
      sandbox.faults.add({ ...slackFault('rate_limited'), times: 1 });
      expect(decision(await failure())).toMatchObject({
        type: 'SlackUnavailable',
        retryable: true,
        nextRetryDelayMs: 30_000,
      });
      sandbox.faults.add({ ...slackFault('invalid_token', { status: 403 }), times: 1 });
      expect(decision(await failure())).toMatchObject({ type: 'SlackRejected', retryable: false });
      expect(await slack!.send({ text: 'hi' })).toEqual({ text: 'ok' });
    } finally {
      await sandbox.close();
    }
  });
});

/** A meter that records what counters were added. */
function recordingMeter(): MetricMeter & { added: { name: string; value: number; tags: unknown }[] } {
  const added: { name: string; value: number; tags: unknown }[] = [];
  const meter = {
    added,
    createCounter: (name: string) => ({
      name,
      unit: undefined,
      description: undefined,
      kind: 'counter' as const,
      valueType: 'int' as const,
      add: (value: number, tags?: unknown) => added.push({ name, value, tags }),
      withTags: () => {
        throw new Error('unused');
      },
    }),
    createHistogram: () => {
      throw new Error('unused');
    },
    createGauge: () => {
      throw new Error('unused');
    },
    withTags: () => meter,
  };
  return meter;
}

describe('classified()', () => {
  const quiet = { logger: new DefaultLogger('ERROR', () => undefined) };
  it('lets a cancellation of the activity leave as a cancellation, not a retryable failure', async () => {
    const env = new MockActivityEnvironment({}, quiet);
    const activities = classified(classifySalesforce, {
      // A call that waits for Salesforce, as every activity does through withDeadline.
      wait: () =>
        withDeadline('Salesforce POST /composite', 60_000, () => new Promise<never>(() => undefined)),
    });
    const running = env.run(activities.wait);
    env.cancel('CANCELLED');
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
  });

  it('reports a refused credential: every attempt counted, one error line per cause within a minute', async () => {
    const entries: LogEntry[] = [];
    const meter = recordingMeter();
    const activities = classified(classifyClerk, {
      listUserMemberships: () =>
        Promise.reject(clerkError(401, 'clerk_key_invalid_unit', 'Secret key invalid')),
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const env = new MockActivityEnvironment(
        { attempt },
        { logger: new DefaultLogger('TRACE', (e) => entries.push(e)), metricMeter: meter },
      );
      const err = await env.run(activities.listUserMemberships).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(decision(err as ApplicationFailure)).toMatchObject({
        type: 'ClerkAuthRejected',
        nextRetryDelayMs: 1_000 * 2 ** (attempt - 1),
      });
    }
    // With the SDK's own tags of the activity (namespace, taskQueue, activityType).
    expect(meter.added).toEqual(
      Array(3).fill({
        name: CREDENTIAL_REJECTIONS_METRIC,
        value: 1,
        tags: expect.objectContaining({
          service: 'clerk',
          cause: 'clerk_key_invalid_unit',
          namespace: 'test',
        }),
      }),
    );
    const errors = entries.filter((e) => e.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      'ClerkAuthRejected: clerk_key_invalid_unit: Secret key invalid (401) — check CLERK_SECRET_KEY; retried every minute until the configuration is fixed',
    );
  });

  it('an ApplicationFailure thrown by the activity is kept as it is', async () => {
    const own = ApplicationFailure.create({
      type: 'ClerkNotConfigured',
      message: 'CLERK_SECRET_KEY is not set',
      nonRetryable: true,
    });
    const activities = classified(classifyClerk, { create: () => Promise.reject(own) });
    await expect(new MockActivityEnvironment({}, quiet).run(activities.create)).rejects.toBe(own);
  });
});

describe('credential alerts', () => {
  const rejection = (cause: string): CredentialRejection => ({
    type: 'SalesforceAuthRejected',
    service: 'salesforce',
    cause,
    message: `${cause}: refused — check SALESFORCE_CLIENT_SECRET`,
  });

  it('logs one line per cause and minute, saying how many it did not log', () => {
    let now = 0;
    const alerts = createCredentialAlerts(() => now);
    const lines: { message: string; meta?: Record<string, unknown> }[] = [];
    const meter = recordingMeter();
    const sink = {
      log: { error: (message: string, meta?: Record<string, unknown>) => lines.push({ message, meta }) },
      meter,
    };
    alerts.report(rejection('invalid_client'), sink); // logged
    now = 1_000;
    alerts.report(rejection('invalid_client'), sink);
    alerts.report(rejection('invalid_grant'), sink); // another cause: logged
    now = 59_999;
    alerts.report(rejection('invalid_client'), sink);
    now = 60_000;
    alerts.report(rejection('invalid_client'), sink); // a minute after the first line: logged
    expect(lines.map((l) => [l.meta?.cause, l.meta?.unloggedSinceLastLine])).toEqual([
      ['invalid_client', 0],
      ['invalid_grant', 0],
      ['invalid_client', 2],
    ]);
    expect(meter.added).toHaveLength(5);
  });
});
