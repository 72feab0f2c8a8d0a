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

/** Svix's tolerance: SPEC refuses a timestamp more than 5 minutes from now, either way (a replay, a skewed clock). */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/**
 * Verifies the raw bytes against every configured secret (several during a rotation) and returns the parsed event.
 * The headers are present and well-formed (`signedHeaders`) and the timestamp window is checked here, as Svix defines
 * it, before svix's `verify`: its WebhookVerificationError then only means "no secret made this signature", so a
 * status code never depends on the wording of svix's messages. svix 2's `verify` only verifies; the JSON is parsed
 * here, once a secret has vouched for the bytes.
 */
export function verifyDelivery(
  verifiers: readonly Webhook[],
  body: Buffer,
  headers: Record<string, string>,
  now = Date.now(),
): unknown {
  const age = Math.floor(now / 1000) - Number(headers['svix-timestamp']);
  if (age > TIMESTAMP_TOLERANCE_SECONDS)
    throw new HttpError(401, 'invalid_signature', 'Message timestamp too old');
  if (age < -TIMESTAMP_TOLERANCE_SECONDS)
    throw new HttpError(401, 'invalid_signature', 'Message timestamp too new');
  if (!verifiers.some((verifier) => signedWith(verifier, body, headers)))
    throw new HttpError(401, 'invalid_signature', 'No matching signature found');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new HttpError(400, 'invalid_json', 'Body is signed but is not JSON');
    throw err;
  }
}

function signedWith(verifier: Webhook, body: Buffer, headers: Record<string, string>): boolean {
  try {
    verifier.verify(body, headers);
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return false; // another secret may have signed it
    throw err;
  }
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
      const event = asEvent(verifyDelivery(verifiers, body, headers));
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
