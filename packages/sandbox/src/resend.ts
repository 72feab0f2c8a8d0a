import { createHash, randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { SANDBOX_CREDENTIALS } from './credentials';
import type { SandboxService } from './types';
import { bearerToken, isRecord, readJson, sendJson } from './wire';

/** One email the Resend stand-in accepted (sent once, whatever the retries). */
export interface SentEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  idempotencyKey?: string;
  /** Epoch ms. */
  at: number;
}

/** The Resend stand-in, with the emails it "sent". */
export interface ResendService extends SandboxService {
  readonly name: 'resend';
  emails(): SentEmail[];
  /**
   * Forgets every idempotency key, as if their 24 hours had passed: a retry with an old key sends again.
   * Returns how many keys were forgotten. Also `POST /_sandbox/resend/forgetIdempotencyKeys` (`{}` →
   * `{"forgotten": n}`).
   */
  forgetIdempotencyKeys(): number;
  /** The account's sending domains (`GET /domains`): `example.com` and `acme.test`, verified, until changed. */
  domains(): SandboxDomain[];
  /**
   * Adds a sending domain or changes its status (Resend's: `verified`, `pending`, `not_started`, `failed`, …). A send
   * from a listed domain that is not verified is refused as Resend refuses it; a domain not listed is accepted.
   */
  setDomain(name: string, status: DomainStatus): SandboxDomain;
  readonly control: {
    [action: string]: (body: unknown) => unknown;
    /** `{}`: see `forgetIdempotencyKeys`; answers `{"forgotten": n}`. */
    forgetIdempotencyKeys(body?: unknown): { forgotten: number };
    /** `{"name": "acme.test", "status": "pending"}`: see `setDomain`; answers the domain. */
    setDomain(body: unknown): SandboxDomain;
  };
}

/** A domain's verification status, as Resend reports it. */
export type DomainStatus =
  | 'verified'
  | 'pending'
  | 'not_started'
  | 'failed'
  | 'temporary_failure'
  | 'partially_verified'
  | 'partially_failed';

const DOMAIN_STATUSES: readonly DomainStatus[] = [
  'verified',
  'pending',
  'not_started',
  'failed',
  'temporary_failure',
  'partially_verified',
  'partially_failed',
];

/** A sending domain of the account, as `GET /domains` lists it. */
export interface SandboxDomain {
  id: string;
  name: string;
  status: DomainStatus;
  created_at: string;
  region: 'us-east-1';
}

/** The senders local mode (`welcome@example.com`) and the product's tests (`hello@acme.test`) use. */
const SEED_DOMAINS = ['example.com', 'acme.test'];

/** Resend keeps idempotency keys for 24 hours. */
const KEY_TTL_MS = 24 * 3600_000;
const ADDRESS = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+)$/;

class ResendError extends Error {
  override readonly name = 'ResendError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Creates the Resend stand-in: `POST /emails` with Idempotency-Key semantics and `GET /emails/{id}`. */
export function createResendService(options: { apiKey?: string } = {}): ResendService {
  const apiKey = options.apiKey ?? SANDBOX_CREDENTIALS.resendApiKey;
  let sent = new Map<string, SentEmail>();
  let byKey = new Map<string, { fingerprint: string; id: string; at: number }>();
  const newDomain = (name: string, status: DomainStatus): SandboxDomain => ({
    id: randomUUID(),
    name,
    status,
    created_at: new Date().toISOString(),
    region: 'us-east-1',
  });
  const seedDomains = () => new Map(SEED_DOMAINS.map((name) => [name, newDomain(name, 'verified')]));
  let domains = seedDomains();

  const setDomain = (name: string, status: DomainStatus): SandboxDomain => {
    const key = name.trim().toLowerCase();
    const domain = { ...(domains.get(key) ?? newDomain(key, status)), status };
    domains.set(key, domain);
    return { ...domain };
  };

  /** Resend sends only from a verified domain; the sandbox refuses only a listed one that is not verified. */
  function checkSender(from: string): void {
    const domain = /@([^\s@<>]+)>?\s*$/.exec(from)?.[1]?.toLowerCase();
    const listed = domain === undefined ? undefined : domains.get(domain);
    if (listed && listed.status !== 'verified') {
      throw new ResendError(
        403,
        'validation_error',
        `The ${listed.name} domain is not verified. Please, add and verify your domain on https://resend.com/domains`,
      );
    }
  }

  function send(ctx: Context, body: unknown): { id: string } {
    const header = ctx.headers['idempotency-key'];
    const key = typeof header === 'string' ? header : undefined;
    if (key !== undefined && (key.length < 1 || key.length > 256)) {
      throw new ResendError(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
    }
    const email = validate(body);
    checkSender(email.from);
    if (key !== undefined) {
      const fingerprint = createHash('sha256').update(canonical(body)).digest('hex');
      const seen = byKey.get(key);
      if (seen && Date.now() - seen.at < KEY_TTL_MS) {
        if (seen.fingerprint !== fingerprint) {
          throw new ResendError(
            409,
            'invalid_idempotent_request',
            'Same idempotency key used with a different request payload. Change your idempotency key or payload.',
          );
        }
        return { id: seen.id }; // same answer, nothing sent again
      }
      byKey.set(key, { fingerprint, id: '', at: Date.now() });
    }
    const record: SentEmail = {
      id: randomUUID(),
      ...email,
      ...(key !== undefined && { idempotencyKey: key }),
      at: Date.now(),
    };
    sent.set(record.id, record);
    if (key !== undefined) byKey.get(key)!.id = record.id;
    return { id: record.id };
  }

  const forgetIdempotencyKeys = (): number => {
    const forgotten = byKey.size;
    byKey = new Map();
    return forgotten;
  };

  return {
    name: 'resend',
    emails: () => [...sent.values()].map((e) => ({ ...e, to: [...e.to] })),
    forgetIdempotencyKeys,
    domains: () => [...domains.values()].map((d) => ({ ...d })),
    setDomain,
    control: {
      forgetIdempotencyKeys: () => ({ forgotten: forgetIdempotencyKeys() }),
      setDomain: (body) => {
        const { name, status } = (isRecord(body) ? body : {}) as { name?: unknown; status?: unknown };
        if (typeof name !== 'string' || !/^[^\s@/]+\.[^\s@/]+$/.test(name.trim())) {
          throw new Error('setDomain needs {"name": "<domain>", "status": "<status>"}');
        }
        if (!DOMAIN_STATUSES.includes(status as DomainStatus)) {
          throw new Error(`setDomain: status must be one of ${DOMAIN_STATUSES.join(', ')}`);
        }
        return setDomain(name, status as DomainStatus);
      },
    },
    reset: () => {
      sent = new Map();
      byKey = new Map();
      domains = seedDomains();
    },
    snapshot: () => ({ emails: [...sent.values()] }),
    middleware: async (ctx) => {
      try {
        authenticate(ctx, apiKey);
        if (ctx.method === 'POST' && ctx.path === '/emails') {
          sendJson(ctx, 200, send(ctx, await readJson(ctx)));
          return;
        }
        if (ctx.method === 'GET' && ctx.path === '/domains') {
          const data = [...domains.values()].map((d) => ({ object: 'domain', ...d }));
          sendJson(ctx, 200, { object: 'list', has_more: false, data });
          return;
        }
        const match = /^\/emails\/([^/]+)$/.exec(ctx.path);
        if (ctx.method === 'GET' && match) {
          const email = sent.get(decodeURIComponent(match[1]!));
          if (!email) throw new ResendError(404, 'not_found', 'Email not found');
          sendJson(ctx, 200, emailJSON(email));
          return;
        }
        throw new ResendError(404, 'not_found', 'The requested endpoint does not exist.');
      } catch (err) {
        if (!(err instanceof ResendError)) throw err;
        sendJson(ctx, err.statusCode, { statusCode: err.statusCode, name: err.code, message: err.message });
      }
    },
  };
}

function authenticate(ctx: Context, apiKey: string): void {
  const token = bearerToken(ctx);
  if (token === undefined) {
    throw new ResendError(
      401,
      'missing_api_key',
      'Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY',
    );
  }
  if (token !== apiKey) throw new ResendError(403, 'invalid_api_key', 'API key is invalid');
}

function validate(body: unknown): Pick<SentEmail, 'from' | 'to' | 'subject' | 'html' | 'text'> {
  if (!isRecord(body))
    throw new ResendError(422, 'validation_error', 'The request body must be a JSON object.');
  const { from, to, subject, html, text } = body;
  if (from === undefined || from === null || from === '') throw missing('from');
  if (typeof from !== 'string' || !ADDRESS.test(from.trim())) {
    throw new ResendError(
      422,
      'validation_error',
      'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
    );
  }
  if (to === undefined || to === null || to === '' || (Array.isArray(to) && to.length === 0))
    throw missing('to');
  const recipients = Array.isArray(to) ? to : [to];
  if (recipients.length > 50 || !recipients.every((r) => typeof r === 'string' && ADDRESS.test(r.trim()))) {
    throw new ResendError(
      422,
      'validation_error',
      'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
    );
  }
  if (typeof subject !== 'string' || subject === '') throw missing('subject');
  if ((typeof html !== 'string' || html === '') && (typeof text !== 'string' || text === '')) {
    throw new ResendError(422, 'missing_required_field', 'Missing `html` or `text` field.');
  }
  return {
    from,
    to: recipients as string[],
    subject,
    ...(typeof html === 'string' && { html }),
    ...(typeof text === 'string' && { text }),
  };
}

function missing(field: string): ResendError {
  return new ResendError(422, 'missing_required_field', `Missing \`${field}\` field.`);
}

function emailJSON(e: SentEmail) {
  return {
    object: 'email',
    id: e.id,
    to: e.to,
    from: e.from,
    created_at: new Date(e.at).toISOString(),
    subject: e.subject,
    html: e.html ?? null,
    text: e.text ?? null,
    bcc: null,
    cc: null,
    reply_to: null,
    last_event: 'delivered',
    scheduled_at: null,
  };
}

/** JSON with sorted keys and without undefined, so "the same body" does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    const entries = Object.keys(value)
      .filter((k) => value[k] !== undefined && value[k] !== null)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
