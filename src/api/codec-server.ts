import type Router from '@koa/router';
import type { Payload } from '@temporalio/common';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { z } from 'zod';
import { EncryptionCodec, PayloadDecryptionFailed, type EncryptionKey } from '../codec';
import type { Logger } from '../logger';
import { requireBearer } from './bearer';
import { HttpError } from './errors';

/** Where the codec server is mounted; the Web UI is pointed at `<API URL>/codec`. */
export const CODEC_PATH = '/codec';

/** A history event's payloads can be large (Temporal's limit is 2 MiB per payload); the UI sends them in batches. */
const MAX_BODY = '4mb';

/** What the UI sends: `Authorization` when it passes an access token, `Authorization-Extras` with an id token. */
const ALLOWED_HEADERS = 'authorization, authorization-extras, content-type, x-namespace';

/** What the codec server needs; without keys it does not exist (404). */
export interface CodecServerDeps {
  /** CLERK_SYNC_ENCRYPTION_KEY: the first encrypts (`/encode`), each decrypts what names it (`/decode`). */
  readonly keys: readonly EncryptionKey[];
  /** TEMPORAL_NAMESPACE: the one namespace whose payloads it serves (the UI's `X-Namespace`). */
  readonly namespace: string;
  /** CLERK_SYNC_API_KEY: callers present it as a bearer key; without it only local mode serves the codec. */
  readonly apiKey?: string;
  /**
   * CLERK_SYNC_CODEC_ORIGINS: the browser origins (the Temporal Web UI's) that may call it. Only these, and local
   * mode's UI, get CORS headers (credentials included); a request from any other origin is refused (issue 12: behind
   * a cookie-signing proxy, any page an operator visits could otherwise read decrypted histories).
   */
  readonly origins?: readonly string[];
  /**
   * Local mode (`npm start`) only: the local Web UI's origins. The UI cannot send a bearer key of its own, so a
   * request from this machine's loopback interface, from one of these origins or with no Origin, needs none.
   */
  readonly localUiOrigins?: readonly string[];
  readonly logger: Logger;
}

/** The codec HTTP protocol's body: proto3 JSON of `Payloads` (base64 bytes). */
const PayloadsBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string()).nullish(),
      data: z.string().nullish(),
    }),
  ),
});
type JsonPayload = z.infer<typeof PayloadsBody>['payloads'][number];

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

function toJson({ metadata, data }: Payload): { metadata: Record<string, string>; data?: string } {
  const json: { metadata: Record<string, string>; data?: string } = {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
  };
  if (data && data.length > 0) json.data = Buffer.from(data).toString('base64');
  return json;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * `POST /codec/decode` and `/codec/encode` for the Temporal Web UI and CLI (the remote codec protocol), with CORS
 * preflight. Issue 6: operators read encrypted histories in the UI; nobody else gets plain payloads out of it.
 */
export function codecRoutes(router: Router, deps: CodecServerDeps): void {
  const { keys, namespace, apiKey, origins = [], localUiOrigins, logger } = deps;
  if (keys.length === 0 || (!apiKey && !localUiOrigins)) return;
  const codec = new EncryptionCodec(keys);
  const allowedOrigins = new Set([...origins, ...(localUiOrigins ?? [])]);

  /**
   * CORS for the listed origins only, credentials too (the UI's "Include cross-origin credentials" setting). A
   * request without Origin (the CLI, a server) is no browser's: the key alone decides.
   */
  function cors(ctx: Context): void {
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (!origin) return;
    if (!allowedOrigins.has(origin)) {
      throw new HttpError(
        403,
        'origin_not_allowed',
        `Origin ${origin} may not use this codec server (CLERK_SYNC_CODEC_ORIGINS lists the ones that may)`,
      );
    }
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Allow-Credentials', 'true');
  }

  function authorize(ctx: Context): void {
    // Socket address, not ctx.ip: app.proxy trusts X-Forwarded-For, which any caller can send.
    if (localUiOrigins && LOOPBACK.has(ctx.req.socket.remoteAddress ?? '')) return;
    requireBearer(ctx, apiKey);
  }

  async function readPayloads(ctx: Context): Promise<Payload[]> {
    if (!ctx.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    }
    let raw: string;
    try {
      raw = await getRawBody(ctx.req, {
        limit: MAX_BODY,
        length: ctx.get('content-length') || undefined,
        encoding: 'utf8',
      });
    } catch (err) {
      if ((err as { status?: unknown }).status === 413) {
        throw new HttpError(413, 'payload_too_large', `Request body exceeds ${MAX_BODY}`);
      }
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'invalid_json', 'Body must be JSON');
    }
    const parsed = PayloadsBody.safeParse(json);
    if (!parsed.success) {
      throw new HttpError(
        400,
        'invalid_request',
        'Body must be {"payloads": [{"metadata": {…}, "data": "…"}]}',
      );
    }
    return parsed.data.payloads.map(fromJson);
  }

  for (const op of ['decode', 'encode'] as const) {
    const path = `${CODEC_PATH}/${op}`;

    router.options(path, (ctx) => {
      cors(ctx);
      ctx.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
    });

    router.post(path, async (ctx) => {
      cors(ctx);
      authorize(ctx);
      const requested = ctx.get('x-namespace');
      if (requested && requested !== namespace) {
        throw new HttpError(
          403,
          'namespace_not_served',
          `This codec server serves namespace ${namespace} only`,
        );
      }
      const payloads = await readPayloads(ctx);
      let result: Payload[];
      try {
        result = op === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
      } catch (err) {
        if (err instanceof PayloadDecryptionFailed) throw new HttpError(400, 'decode_failed', err.message);
        throw err;
      }
      logger.debug({ op, namespace, payloads: payloads.length }, 'codec request');
      ctx.body = { payloads: result.map(toJson) };
    });
  }
}
