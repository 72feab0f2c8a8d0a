import type { Context } from 'koa';
import getRawBody from 'raw-body';

/** Largest request body a stand-in reads; the real APIs refuse far less, so this only guards the process. */
const BODY_LIMIT = '5mb';

/** The request body as text (empty string when there is none). */
export async function readText(ctx: Context): Promise<string> {
  return getRawBody(ctx.req, { limit: BODY_LIMIT, encoding: 'utf8' });
}

/** The request body parsed as JSON, or `undefined` when it is empty or not JSON. */
export async function readJson(ctx: Context): Promise<unknown> {
  const text = await readText(ctx);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Answers JSON with `Content-Type` exactly `application/json`: @clerk/backend parses a body only when the
 * header is exactly that (Koa's default adds `; charset=utf-8`, which the SDK returns as a raw string).
 */
export function sendJson(
  ctx: Context,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  ctx.status = status;
  ctx.body = JSON.stringify(body);
  ctx.set(headers);
  ctx.set('Content-Type', 'application/json');
}

/** Answers plain text, as Slack's incoming webhooks do. */
export function sendText(
  ctx: Context,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  ctx.status = status;
  ctx.body = text;
  ctx.set(headers);
  ctx.set('Content-Type', 'text/plain; charset=utf-8');
}

/** A bearer token from `Authorization`, or `undefined` when the header is missing or not `Bearer …`. */
export function bearerToken(ctx: Context): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
  return match?.[1];
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
