import { createClerkClient, type ClerkClient } from '@clerk/backend';
import { IncomingWebhook } from '@slack/webhook';
import { Connection } from 'jsforce';
import { Resend } from 'resend';
import type { Config, SalesforceConfig } from './config';
import type { Logger } from './logger';
import type { SalesforceSession } from './activities/salesforce';

// The SDK clients, built once per worker from the configuration; activities receive them and never build
// their own. Each is the service's own well-kept SDK, used unchanged: only base URLs differ in the sandbox.

/** The four services' clients; a service without credentials is `undefined` (its activities answer 'skipped'). */
export interface Clients {
  salesforce?: SalesforceSession;
  clerk?: ClerkClient;
  resend?: Resend;
  slack?: IncomingWebhook;
}

/**
 * One jsforce connection shared by every activity of the worker. jsforce 3 never refreshes a client-credentials
 * session by itself (it looks for a refresh token), so `refreshFn` asks for a new token on INVALID_SESSION_ID.
 */
export function salesforceSession(config: SalesforceConfig, logger: Logger): SalesforceSession {
  if (config.kind === 'session') {
    const conn = new Connection({
      instanceUrl: config.instanceUrl,
      accessToken: config.accessToken,
      version: config.apiVersion,
    });
    return { apiVersion: config.apiVersion, connection: () => Promise.resolve(conn) };
  }
  const conn = new Connection({
    oauth2: { loginUrl: config.loginUrl, clientId: config.clientId, clientSecret: config.clientSecret },
    loginUrl: config.loginUrl,
    version: config.apiVersion,
    refreshFn: (c, callback) => {
      logger.info('Salesforce session expired: requesting a new token');
      c.oauth2.requestToken({ grant_type: 'client_credentials' }).then(
        (res) => {
          callback(undefined, res.access_token, res);
        },
        (err: Error) => {
          callback(err);
        },
      );
    },
  });
  let authorizing: Promise<Connection> | undefined;
  return {
    apiVersion: config.apiVersion,
    connection() {
      if (conn.accessToken) return Promise.resolve(conn);
      authorizing ??= conn.authorize({ grant_type: 'client_credentials' }).then(
        () => conn,
        (err: unknown) => {
          authorizing = undefined;
          throw err;
        },
      );
      return authorizing;
    },
  };
}

/** Builds the clients the configuration has credentials for, and logs one line per feature switched off. */
export function createClients(config: Config, logger: Logger): Clients {
  if (!config.clerk) logger.warn('CLERK_SECRET_KEY not set: no membership look-ups in Clerk');
  if (!config.email) logger.warn('RESEND_API_KEY not set: no welcome emails');
  if (!config.slack) logger.warn('SLACK_WEBHOOK_URL not set: no Slack notices');
  return {
    salesforce: config.salesforce ? salesforceSession(config.salesforce, logger) : undefined,
    clerk: config.clerk
      ? createClerkClient({ secretKey: config.clerk.secretKey, apiUrl: config.clerk.apiUrl })
      : undefined,
    resend: config.email ? new Resend(config.email.apiKey, { baseUrl: config.email.baseUrl }) : undefined,
    slack: config.slack ? new IncomingWebhook(config.slack.webhookUrl, { timeout: 10_000 }) : undefined,
  };
}
