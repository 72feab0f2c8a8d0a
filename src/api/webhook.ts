import type Router from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { Webhook, WebhookVerificationError } from 'svix';
import type { Logger } from '../logger';
import { routeEvent } from '../shared/events';
import type { Starter } from '../starter';
import { HttpError, toHttpError } from './errors';
import type { Metrics } from './metrics';

/** Svix's own limit is far below this; a larger body is not a Clerk event. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The signed headers, under either the Svix names or the Standard Webhooks ones. */
const HEADER_NAMES = ['id', 'timestamp', 'signature'] as const;

function signedHeaders(ctx: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of HEADER_NAMES) {
    const value = ctx.get(`svix-${name}`) || ctx.get(`webhook-${name}`);
    if (!value) {
      throw new HttpError(400, 'missing_headers', 'Missing svix-id, svix-timestamp or svix-signature header');
    }
    headers[`svix-${name}`] = value;
  }
  // svix's own check uses parseInt, which takes "1700000000abc"; Svix only ever sends whole seconds.
  if (!/^\d{1,12}$/.test(headers['svix-timestamp']!)) {
    throw new HttpError(400, 'invalid_headers', 'svix-timestamp must be whole seconds since the epoch');
  }
  return headers;
}

/**
 * Verifies the raw bytes against every configured secret (several during a rotation) and returns the parsed event.
 * Timestamp and header problems are the same for every secret, so only "no matching signature" tries the next one.
 */
function verify(verifiers: readonly Webhook[], body: Buffer, headers: Record<string, string>): unknown {
  let lastError: unknown;
  for (const verifier of verifiers) {
    try {
      return verifier.verify(body, headers);
    } catch (err) {
      lastError = err;
      if (err instanceof WebhookVerificationError && err.message === 'No matching signature found') continue;
      break;
    }
  }
  if (lastError instanceof SyntaxError) {
    throw new HttpError(400, 'invalid_json', 'Body is signed but is not JSON');
  }
  if (lastError instanceof WebhookVerificationError) {
    const malformed = /headers/i.test(lastError.message);
    throw new HttpError(
      malformed ? 400 : 401,
      malformed ? 'invalid_headers' : 'invalid_signature',
      lastError.message,
    );
  }
  throw lastError;
}

function asEvent(parsed: unknown): { type: string; data: Record<string, unknown>; timestamp?: unknown } {
  const event = parsed as { type?: unknown; data?: unknown; timestamp?: unknown } | null;
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.type !== 'string' ||
    typeof event.data !== 'object' ||
    event.data === null ||
    Array.isArray(event.data)
  ) {
    throw new HttpError(
      400,
      'invalid_event',
      'Body must be a Clerk event: a JSON object with "type" and "data"',
    );
  }
  return { type: event.type, data: event.data as Record<string, unknown>, timestamp: event.timestamp };
}

/** `POST /webhooks/clerk`: verify, route, start one workflow per svix-id, answer as soon as Temporal accepted it. */
export function webhookRoutes(
  router: Router,
  deps: { signingSecrets: readonly string[]; starter: Starter; logger: Logger; metrics: Metrics },
): void {
  const verifiers = deps.signingSecrets.map((secret) => new Webhook(secret));
  const { starter, logger, metrics } = deps;

  router.post('/webhooks/clerk', async (ctx) => {
    try {
      const headers = signedHeaders(ctx);
      const body = await getRawBody(ctx.req, {
        limit: MAX_BODY_BYTES,
        length: ctx.get('content-length') || undefined,
      });
      const event = asEvent(verify(verifiers, body, headers));
      const svixId = headers['svix-id']!;
      const delivery = routeEvent(svixId, event, Date.now());
      if (!delivery) {
        logger.debug({ svixId, eventType: event.type }, 'event type ignored');
        metrics.webhookRequests.inc({ outcome: 'ignored' });
        ctx.body = { status: 'ignored' };
        return;
      }
      const timer = metrics.startLatency.startTimer();
      const result = await starter.startDelivery(delivery).catch((err: unknown) => {
        timer({ result: 'error' });
        throw err;
      });
      timer({ result: result.status });
      metrics.webhookRequests.inc({ outcome: result.status });
      logger.info(
        {
          svixId,
          workflowId: result.workflowId,
          eventType: event.type,
          ...delivery.ids,
          status: result.status,
        },
        result.status === 'started' ? 'workflow started' : 'duplicate delivery',
      );
      ctx.status = result.status === 'started' ? 202 : 200;
      ctx.body = { status: result.status, workflowId: result.workflowId };
    } catch (err) {
      metrics.webhookRequests.inc({ outcome: toHttpError(err).code });
      throw err;
    }
  });
}
