import { createClerkClient, type ClerkClient } from '@clerk/backend';
import { IncomingWebhook } from '@slack/webhook';
import { Connection } from 'jsforce';
import { Transport } from 'jsforce/lib/transport';
import {
  StreamPromise,
  type HttpRequest,
  type HttpRequestOptions,
  type HttpResponse,
} from 'jsforce/lib/types';
import { Resend } from 'resend';
import type { Config, SalesforceConfig } from './config';
import { withDeadline } from './deadline';
import type { Logger } from './logger';
import type { SalesforceSession } from './activities/salesforce';
import { salesforceCredentialRefusal, sessionRefreshRefused, SlackRateLimited } from './activities/errors';
import {
  CLERK_REQUEST_TIMEOUT_MS,
  SALESFORCE_REQUEST_TIMEOUT_MS,
  SALESFORCE_SETUP_REQUEST_TIMEOUT_MS,
  SALESFORCE_TOKEN_TIMEOUT_MS,
  SLACK_REQUEST_TIMEOUT_MS,
} from './timeouts';

// The SDK clients, built once per worker from the configuration; activities receive them and never build
// their own. Each is the service's own well-kept SDK, used unchanged: only base URLs differ in the sandbox.

/** The four services' clients; a service without credentials is `undefined` (its activities answer 'skipped'). */
export interface Clients {
  salesforce?: SalesforceSession;
  clerk?: ClerkClient;
  resend?: Resend;
  slack?: IncomingWebhook;
}

/** Time limits of a Salesforce session: each request, and the OAuth token request (login and refresh). */
export interface SalesforceTimeouts {
  requestMs: number;
  tokenMs: number;
}

/** The worker's limits: well under the activities' start-to-close timeouts (see ./timeouts). */
export const SYNC_SALESFORCE_TIMEOUTS: SalesforceTimeouts = {
  requestMs: SALESFORCE_REQUEST_TIMEOUT_MS,
  tokenMs: SALESFORCE_TOKEN_TIMEOUT_MS,
};

/** `clerk-sync salesforce setup`'s limits: synchronous Metadata API writes may take minutes. */
const SETUP_SALESFORCE_TIMEOUTS: SalesforceTimeouts = {
  requestMs: SALESFORCE_SETUP_REQUEST_TIMEOUT_MS,
  tokenMs: SALESFORCE_TOKEN_TIMEOUT_MS,
};

/**
 * jsforce's HTTP transport with a time limit and the activity's cancellation. jsforce 3 has no Connection option
 * for either: its per-request `timeout` (default 30 minutes) is read from the options of `conn.request(req, options)`,
 * which `query()`, `requestPost()` and the SOAP APIs never pass, or from the HTTP_TIMEOUT variable, global to every
 * jsforce client of the process. The transport is the one place every request of a Connection crosses (REST, SOAP,
 * OAuth), so this subclass gives each request jsforce's own `timeout` (its fetch is aborted and the socket closed)
 * and settles the request's promise with a clear `DeadlineExceeded` at the limit, response body included, or at
 * once when the activity is cancelled. jsforce keeps its AbortController to itself: after a cancellation the
 * abandoned request is closed by that same timeout, at most `timeoutMs` later.
 */
export class BoundedTransport extends Transport {
  constructor(
    private readonly service: string,
    private readonly timeoutMs: number,
    /** False for the OAuth token request, which every activity of the worker shares. */
    private readonly cancellable: boolean,
  ) {
    super();
  }

  override httpRequest(req: HttpRequest, options: HttpRequestOptions = {}): StreamPromise<HttpResponse> {
    // jsforce aborts a second after our limit: the failure then reads "no answer within…", not jsforce's
    // "The user aborted a request. Request was aborted due to timeout of 10 minutes."
    // `maxRetries: 0`: jsforce would otherwise retry GET/PUT/DELETE up to 5 times on network errors, 429 and 5xx
    // inside one activity attempt, ignoring Retry-After; activities/errors.ts is the one place that decides.
    const sent = super.httpRequest(req, {
      ...options,
      timeout: this.timeoutMs + 1000,
      retry: { ...options.retry, maxRetries: 0 },
    });
    const answer = withDeadline(
      `${this.service} ${req.method} ${pathOf(req.url)}`,
      this.timeoutMs,
      () => sent,
      {
        cancellation: this.cancellable ? undefined : null,
      },
    );
    return StreamPromise.create(() => ({ stream: sent.stream(), promise: answer }));
  }
}

/** A request URL without its query string (a SOQL query may quote field values). */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

/**
 * How long a refusal of the credentials by Salesforce's token endpoint (a wrong secret, a disabled connected app) is
 * reused before asking again: every sync waiting on Salesforce retries (activities/errors.ts, at most a minute apart),
 * and without this each attempt of each of them would be one more token request with the same wrong secret.
 */
export const SALESFORCE_REFUSAL_REUSE_MS = 5_000;

/**
 * One jsforce connection shared by every activity of the worker. jsforce 3 never refreshes a client-credentials
 * session by itself (it looks for a refresh token), so `refreshFn` asks for a new token on INVALID_SESSION_ID.
 *
 * The token request is single-flight (one at a time for the worker) and has its own limit: a hung token request
 * fails every attempt waiting for it once, after `tokenMs`, and the next attempt asks again. A refusal of the
 * credentials is answered from memory for `SALESFORCE_REFUSAL_REUSE_MS`. A refresh that fails on refused credentials
 * (or a fixed session, which cannot be renewed, that Salesforce no longer accepts) fails with
 * `sessionRefreshRefused`, so that the classifier names the cause through jsforce's rewording of the error.
 * The worker passes `SYNC_SALESFORCE_TIMEOUTS`; the default suits `clerk-sync salesforce setup`.
 */
export function salesforceSession(
  config: SalesforceConfig,
  logger: Logger,
  timeouts: SalesforceTimeouts = SETUP_SALESFORCE_TIMEOUTS,
): SalesforceSession {
  const transport = new BoundedTransport('Salesforce', timeouts.requestMs, true);
  if (config.kind === 'session') {
    const conn = new Connection({
      instanceUrl: config.instanceUrl,
      accessToken: config.accessToken,
      version: config.apiVersion,
      // Called by jsforce when Salesforce answers INVALID_SESSION_ID (REST 401 or SOAP fault): nothing can renew it.
      refreshFn: (_c, callback) => {
        callback(
          sessionRefreshRefused('INVALID_SESSION_ID', 'Salesforce no longer accepts the access token'),
        );
      },
    });
    conn._transport = transport;
    return { apiVersion: config.apiVersion, connection: () => Promise.resolve(conn) };
  }
  let refusal: { err: Error; at: number } | undefined;
  /** The token endpoint's refusal of a moment ago, if any. */
  const recentRefusal = (): { err: Error } | undefined =>
    refusal && Date.now() - refusal.at < SALESFORCE_REFUSAL_REUSE_MS ? refusal : undefined;
  const remember = <T>(token: Promise<T>): Promise<T> =>
    token.then(
      (res) => {
        refusal = undefined;
        return res;
      },
      (err: unknown) => {
        if (err instanceof Error && salesforceCredentialRefusal(err)) refusal = { err, at: Date.now() };
        throw err;
      },
    );
  const requestToken = (c: Connection, what: string) => {
    const refused = recentRefusal();
    if (refused) return Promise.reject(refused.err);
    // Not cancellable by the activity that happened to start it: the others wait for the same token.
    return remember(
      withDeadline(
        what,
        timeouts.tokenMs,
        () => c.oauth2.requestToken({ grant_type: 'client_credentials' }),
        {
          cancellation: null,
        },
      ),
    );
  };
  const conn = new Connection({
    oauth2: { loginUrl: config.loginUrl, clientId: config.clientId, clientSecret: config.clientSecret },
    loginUrl: config.loginUrl,
    version: config.apiVersion,
    refreshFn: (c, callback) => {
      logger.info('Salesforce session expired: requesting a new token');
      requestToken(c, 'Salesforce OAuth token refresh').then(
        (res) => {
          callback(undefined, res.access_token, res);
        },
        (err: Error) => {
          // jsforce keeps only the message ("Unable to refresh session due to: …"): keep the code in it.
          const refused = salesforceCredentialRefusal(err);
          callback(refused ? sessionRefreshRefused(refused.code, refused.description) : err);
        },
      );
    },
  });
  conn._transport = transport;
  conn.oauth2._transport = new BoundedTransport('Salesforce OAuth', timeouts.tokenMs, false);
  let authorizing: Promise<Connection> | undefined;
  return {
    apiVersion: config.apiVersion,
    connection() {
      if (conn.accessToken) return Promise.resolve(conn);
      const refused = recentRefusal();
      if (refused) return Promise.reject(refused.err);
      authorizing ??= remember(
        withDeadline(
          'Salesforce OAuth token request',
          timeouts.tokenMs,
          () => conn.authorize({ grant_type: 'client_credentials' }),
          { cancellation: null },
        ),
      ).then(
        () => conn,
        (err: unknown) => {
          authorizing = undefined;
          throw err;
        },
      );
      const shared = authorizing;
      // Each caller waits at most the same limit, and stops waiting when its own activity is cancelled.
      return withDeadline('Salesforce OAuth token request', timeouts.tokenMs, () => shared);
    },
  };
}

/**
 * The Clerk client with a time limit and the activity's cancellation on every call. @clerk/backend takes neither a
 * timeout, nor a signal, nor a fetch of its own (it calls the global `fetch`, bound when it loads), and replacing
 * the global fetch or undici dispatcher would change every other client of the process. So each API method's
 * promise (`clerk.users.getOrganizationMembershipList(…)`, …) is bounded here, for the sync and the backfill alike.
 * The abandoned request itself is closed by undici's own headers and body timeouts (5 minutes each by default).
 */
export function boundedClerkClient(clerk: ClerkClient, timeoutMs: number): ClerkClient {
  const apis = new Map<PropertyKey, unknown>();
  const boundApi = (name: string, api: object): object =>
    new Proxy(api, {
      get(target, method) {
        const value: unknown = Reflect.get(target, method);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          const result: unknown = Reflect.apply(value, target, args);
          if (!isThenable(result)) return result;
          return withDeadline(`Clerk ${name}.${String(method)}`, timeoutMs, () => result);
        };
      },
    });
  return new Proxy(clerk, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'object' || value === null) return value;
      if (!apis.has(prop)) apis.set(prop, boundApi(String(prop), value));
      return apis.get(prop);
    },
  });
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/** Slack's `fetch`: a 429 becomes `SlackRateLimited`, keeping the Retry-After that @slack/webhook 8 does not report. */
const slackFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (response.status !== 429) return response;
  await response.body?.cancel();
  const seconds = Number(response.headers.get('retry-after'));
  throw new SlackRateLimited(Number.isFinite(seconds) && seconds > 0 ? seconds : undefined);
};

/** Builds the clients the configuration has credentials for, and logs one line per feature switched off. */
export function createClients(config: Config, logger: Logger): Clients {
  if (!config.clerk) logger.warn('CLERK_SECRET_KEY not set: no membership look-ups in Clerk');
  if (!config.email) logger.warn('RESEND_API_KEY not set: no welcome emails');
  if (!config.slack) logger.warn('SLACK_WEBHOOK_URL not set: no Slack notices');
  return {
    salesforce: config.salesforce
      ? salesforceSession(config.salesforce, logger, SYNC_SALESFORCE_TIMEOUTS)
      : undefined,
    clerk: config.clerk
      ? boundedClerkClient(
          createClerkClient({ secretKey: config.clerk.secretKey, apiUrl: config.clerk.apiUrl }),
          CLERK_REQUEST_TIMEOUT_MS,
        )
      : undefined,
    // Resend takes a signal per request: the email activity passes its limit and cancellation there.
    resend: config.email ? new Resend(config.email.apiKey, { baseUrl: config.email.baseUrl }) : undefined,
    // The SDK's own `timeout` (no answer for that long aborts the request); the activity also bounds the whole send
    // and stops it waiting on cancellation (`send` takes no signal).
    slack: config.slack
      ? new IncomingWebhook(config.slack.webhookUrl, { timeout: SLACK_REQUEST_TIMEOUT_MS, fetch: slackFetch })
      : undefined,
  };
}
