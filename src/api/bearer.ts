import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { HttpError } from './errors';

/** True when `authorization` is `Bearer <key>` with exactly `key`, compared in constant time. */
export function hasBearer(authorization: string, key: string | undefined): boolean {
  const [scheme, token] = authorization.split(' ');
  if (!key || scheme?.toLowerCase() !== 'bearer' || !token) return false;
  const given = Buffer.from(token);
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The operator API's and the codec server's gate: `Authorization: Bearer <CLERK_SYNC_API_KEY>`, else 401
 * `unauthorized` with `WWW-Authenticate: Bearer`. Without a key nobody passes.
 */
export function requireBearer(ctx: Context, key: string | undefined): void {
  if (hasBearer(ctx.get('authorization'), key)) return;
  throw new HttpError(
    401,
    'unauthorized',
    'A valid Authorization: Bearer <CLERK_SYNC_API_KEY> header is required',
    { 'WWW-Authenticate': 'Bearer' },
  );
}
