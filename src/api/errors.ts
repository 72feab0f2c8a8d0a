import type { Middleware } from 'koa';
import { TemporalUnavailable } from '../starter';
import type { Logger } from '../logger';

/** An answer the API decided on: status, a stable code for machines, a message for people. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The error body every non-2xx answer carries. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** http-errors style errors (raw-body's `entity.too.large`, the router's 405) carry a 4xx `status`. */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** Maps a thrown error to its answer: the one place that decides status codes for failures. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const status = clientErrorStatus(err);
  if (status === 413) return new HttpError(413, 'payload_too_large', 'Request body exceeds 1 MiB');
  if (status !== undefined) {
    const type = (err as { type?: unknown }).type;
    const code = typeof type === 'string' ? type.replace(/\./g, '_') : `http_${status}`;
    return new HttpError(status, code, err instanceof Error ? err.message : 'Bad request');
  }
  if (err instanceof TemporalUnavailable) {
    // Svix retries a 5xx later; nothing was started, so nothing is lost.
    return new HttpError(503, 'temporal_unavailable', 'Workflow engine unavailable, retry later', {
      'Retry-After': '5',
    });
  }
  return new HttpError(500, 'internal_error', 'Internal error');
}

/** Outermost middleware: every failure (and an unmatched route) becomes a JSON answer; only unexpected ones are logged as errors. */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const answer = toHttpError(err);
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = { error: { code: answer.code, message: answer.message } } satisfies ErrorBody;
      if (answer.status >= 500) {
        logger.error({ err, path: ctx.path, status: answer.status }, answer.message);
      } else {
        logger.info({ path: ctx.path, status: answer.status, code: answer.code }, 'request rejected');
      }
    }
  };
}
