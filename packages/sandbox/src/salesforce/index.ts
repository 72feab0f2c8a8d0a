import { randomBytes } from 'node:crypto';
import getRawBody from 'raw-body';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { SandboxService } from '../types';
import { SalesforceError, notFound } from './errors';
import { MetadataApi, soapFault } from './metadata';
import { requestToken, type OAuthClient } from './oauth';
import { readSchemaSource } from './source';
import { SalesforceOrg, type ValidationRule } from './org';
import { RestApi, type RestResponse } from './rest';
import { Sessions } from './sessions';
import { SoqlEngine } from './soql';

/** How the Salesforce stand-in behaves. */
export interface SalesforceSandboxOptions {
  /** Connected app consumer key (default `clerk-sync-sandbox`). */
  clientId?: string;
  /** Connected app consumer secret (default `sandbox-secret`). */
  clientSecret?: string;
  /** Integration user for the password grant (default `integration@clerk-sync.sandbox` / `sandbox-password`). */
  username?: string;
  password?: string;
  /** Only fields that exist (standard, or created through the Metadata API) are accepted (default false). */
  strict?: boolean;
  /**
   * Salesforce DX source whose custom objects and fields a non-strict org starts with (default: this repository's
   * `force-app/`, the components `clerk-sync salesforce setup` deploys).
   */
  source?: string;
  /** Daily API request allocation (default 15000, a Developer Edition org). */
  dailyApiLimit?: number;
  /** Session inactivity timeout (default 2 h). */
  sessionTtlMs?: number;
  /** `instance_url` to hand out; default: the request's protocol and Host + `/salesforce`. */
  instanceUrl?: string;
}

/** A record as the snapshot shows it: its field values. */
export type SalesforceRecord = Record<string, unknown>;

/** What a person or a test reads: live records per object and the API usage. */
export interface SalesforceSnapshot {
  [key: string]: unknown;
  Account: SalesforceRecord[];
  Contact: SalesforceRecord[];
  Clerk_Membership__c: SalesforceRecord[];
  apiUsage: { used: number; max: number };
}

/** What `insert` and the `insert` control action seed: field name → value, as a REST create body. */
export type SeedRecord = Record<string, unknown>;

/** Actions served as `POST /_sandbox/salesforce/<action>`. */
export interface SalesforceControl extends Record<string, (body: unknown) => unknown> {
  /** `{}`: every access token stops working. */
  expireSessions(body?: unknown): unknown;
  /** `{"max": 15000}`: the daily allocation. */
  setDailyApiLimit(body: unknown): unknown;
  /** `{"used": 0}`: calls used so far today. */
  setApiUsage(body: unknown): unknown;
  /** `{"strict": true}`: see `SalesforceService.setStrict`. */
  setStrict(body: unknown): unknown;
  /** `{"object":"Contact","on":"update","field":"AccountId","message":"…","times":1}`: see `addValidationRule`. */
  addValidationRule(body: unknown): unknown;
  /** `{"type":"Contact","records":[{…}, …]}`: see `SalesforceService.insert`; answers `{"ids": [...]}`. */
  insert(body: unknown): unknown;
}

export type { ValidationRule } from './org';

/** The Salesforce stand-in: the SandboxService plus typed controls for tests. */
export interface SalesforceService extends SandboxService {
  readonly name: 'salesforce';
  readonly control: SalesforceControl;
  snapshot(): SalesforceSnapshot;
  /** Live records of one sObject type, in creation order (`includeDeleted` adds the recycle bin). */
  records(type: string, options?: { includeDeleted?: boolean }): SalesforceRecord[];
  /** Every access token stops working; the next call answers 401 INVALID_SESSION_ID. */
  expireSessions(): void;
  /** Changes the daily allocation; calls beyond it answer 403 REQUEST_LIMIT_EXCEEDED. */
  setDailyApiLimit(max: number): void;
  /** Sets the calls used so far (0 to start a fresh day). */
  setApiUsage(used: number): void;
  apiUsage(): { used: number; max: number };
  /** Switches strict mode; strict drops the pre-created (force-app) fields until the Metadata API creates them. */
  setStrict(strict: boolean): void;
  /** A refresh token the refresh_token grant accepts (for testing jsforce's refresh path). */
  issueRefreshToken(): string;
  /**
   * An admin's validation rule or trigger: the matching writes fail with FIELD_CUSTOM_VALIDATION_EXCEPTION, one
   * subrequest at a time (unlike a fault, which answers the whole HTTP call). Returns its id; `reset()` drops it.
   */
  addValidationRule(rule: Omit<ValidationRule, 'id'> & { id?: string }): string;
  removeValidationRule(id: string): boolean;
  /**
   * Seeds records of one sObject type straight into the org: no HTTP, no session, no API usage, no 200-record
   * limit, yet the same checks as a REST create (fields, lengths, required fields, lookups, unique External IDs).
   * All or nothing: the first invalid record throws its SalesforceError (`errorCode`, `message`) and none stay.
   * Returns the new 18-character ids in order. 10,000 records take a fraction of a second.
   */
  insert(type: string, records: readonly SeedRecord[]): string[];
}

const DEFAULTS = {
  clientId: 'clerk-sync-sandbox',
  clientSecret: 'sandbox-secret',
  username: 'integration@clerk-sync.sandbox',
  password: 'sandbox-password',
  dailyApiLimit: 15_000,
  sessionTtlMs: 2 * 60 * 60 * 1000,
};

const ruleBody = z.strictObject({
  id: z.string().min(1).optional(),
  object: z.string().min(1),
  on: z.enum(['create', 'update', 'delete']),
  field: z.string().min(1).optional(),
  message: z.string().min(1),
  errorCode: z
    .string()
    .regex(/^[A-Z_]+$/)
    .optional(),
  times: z.number().int().positive().optional(),
});

/**
 * Salesforce refuses a request whose request-target (path and query as sent, percent-encoded) is longer than
 * 16,384 characters with 414 URI Too Long, before authentication and without counting an API call.
 */
export const MAX_URI_LENGTH = 16_384;
/**
 * A header block (every `Name: value` line) longer than this is refused with 431. The figure is our model of
 * Salesforce's edge, not verified against a live org.
 */
export const MAX_HEADER_BYTES = 16_384;
/**
 * What an HTTP server hosting this service must accept in its request line plus headers (Node's `maxHeaderSize`),
 * so that an over-long URI reaches the service and is answered 414 rather than Node's own 431 at 16 KiB.
 */
export const SERVER_MAX_HEADER_SIZE = 128 * 1024;
/** A short HTML page, as an edge proxy answers; jsforce surfaces it as `ERROR_HTTP_414`. Our model. */
const URI_TOO_LONG_HTML =
  '<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n' +
  '<center><h1>414 Request-URI Too Large</h1></center>\r\n</body>\r\n</html>\r\n';

const INVALID_SESSION = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
const LIMIT_EXCEEDED = [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
const FIRST_VERSION = 31;
const LATEST_VERSION = 64;

/** Creates an in-memory Salesforce org speaking OAuth, REST (v31.0+) and the Metadata API, as jsforce uses them. */
export function createSalesforceService(options: SalesforceSandboxOptions = {}): SalesforceService {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const source = readSchemaSource(options.source);
  const org = new SalesforceOrg(options.strict ?? false, source);
  const sessions = new Sessions(org.organizationId, settings.sessionTtlMs);
  const soql = new SoqlEngine(org);
  const usage = { used: 0, max: settings.dailyApiLimit };
  const rest = new RestApi(org, soql, () => ({ ...usage }));
  const metadata = new MetadataApi(org, source.documents);
  const client: OAuthClient = {
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    username: settings.username,
    password: settings.password,
    organizationId: org.organizationId,
    userId: org.userId,
  };

  /** Counts one call against the daily allocation; false once it is used up. */
  const countCall = (): boolean => {
    if (usage.used >= usage.max) return false;
    usage.used += 1;
    return true;
  };

  // Terminal: every path under /salesforce is Salesforce's to answer, so `next` is never called.
  const middleware: Middleware = async (ctx) => {
    // The edge checks sizes before anything else: no session needed, no API call counted.
    // `ctx.url` is the request-target as sent, less the sandbox's own mount prefix (`/salesforce`).
    if (ctx.url.length > MAX_URI_LENGTH) {
      ctx.status = 414;
      ctx.body = URI_TOO_LONG_HTML;
      ctx.set('Content-Type', 'text/html'); // exactly this: jsforce then explains the HTML answer with its status
      return;
    }
    if (headerBytes(ctx.req.rawHeaders) > MAX_HEADER_BYTES) {
      ctx.status = 431;
      ctx.body = '';
      return;
    }
    const path = ctx.path;
    const instanceUrl = options.instanceUrl ?? `${ctx.protocol}://${ctx.host}/salesforce`;
    try {
      if (path === '/services/oauth2/token' && ctx.method === 'POST') {
        const answer = requestToken(await formParams(ctx), client, sessions, instanceUrl);
        sendJson(ctx, answer.status, answer.body);
        return;
      }
      if (path === '/services/oauth2/revoke') {
        const token = (await formParams(ctx)).get('token') ?? ctx.query.token;
        if (typeof token === 'string') sessions.revoke(token);
        ctx.status = 200;
        ctx.body = '';
        return;
      }
      if (/^\/services\/data\/?$/.test(path) && ctx.method === 'GET') {
        // The versions list needs no session and does not count against the allocation.
        sendJson(ctx, 200, versions());
        return;
      }
      const idMatch = /^\/id\/([^/]+)\/([^/]+)$/.exec(path);
      if (idMatch && ctx.method === 'GET') {
        const token =
          bearer(ctx) ?? (typeof ctx.query.oauth_token === 'string' ? ctx.query.oauth_token : undefined);
        if (!sessions.check(token)) return sendJson(ctx, 403, 'Bad_OAuth_Token');
        sendJson(ctx, 200, identity(instanceUrl, org));
        return;
      }
      if (path.startsWith('/services/data/')) {
        await serveRest(ctx, instanceUrl);
        return;
      }
      if (/^\/services\/Soap\/m\/\d+\.\d$/.test(path) && ctx.method === 'POST') {
        await serveMetadata(ctx);
        return;
      }
      sendJson(ctx, 404, notFound().toBody());
    } catch (err) {
      // An unexpected failure must not leave a transaction open for the next request.
      org.store.rollbackAll();
      throw err;
    }
  };

  async function serveRest(ctx: Context, instanceUrl: string): Promise<void> {
    if (!sessions.check(bearer(ctx))) return sendJson(ctx, 401, INVALID_SESSION);
    if (!countCall()) {
      limitHeader(ctx);
      return sendJson(ctx, 403, LIMIT_EXCEEDED);
    }
    limitHeader(ctx);
    let body: unknown;
    const text = await readBody(ctx);
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch (err) {
        const error = new SalesforceError(
          400,
          'JSON_PARSER_ERROR',
          `Unexpected character in request body: ${(err as Error).message}`,
        );
        return sendJson(ctx, 400, error.toBody());
      }
    }
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(ctx.headers))
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    const answer: RestResponse = rest.handle({
      method: ctx.method,
      path: ctx.path.slice('/services/data/'.length),
      query: new URLSearchParams(ctx.querystring),
      headers,
      body,
      instanceUrl,
      discardWrites: (ctx.state as { discardWrites?: boolean }).discardWrites === true,
    });
    for (const [k, v] of Object.entries(answer.headers ?? {})) ctx.set(k, v);
    if (answer.body === undefined) {
      ctx.status = answer.status;
      ctx.body = null;
      return;
    }
    sendJson(ctx, answer.status, answer.body);
  }

  async function serveMetadata(ctx: Context): Promise<void> {
    const envelope = MetadataApi.parse(await readBody(ctx));
    let answer;
    if (!envelope) answer = soapFault('INVALID_XML', 'The request is not a SOAP envelope');
    else if (!sessions.check(MetadataApi.sessionId(envelope))) {
      answer = soapFault('INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader: Illegal Session');
    } else if (!countCall()) answer = soapFault('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    else answer = metadata.handle(envelope);
    ctx.status = answer.status;
    ctx.type = 'text/xml';
    ctx.body = answer.xml;
  }

  function limitHeader(ctx: Context): void {
    ctx.set('Sforce-Limit-Info', `api-usage=${usage.used}/${usage.max}`);
  }

  const records = (type: string, opts: { includeDeleted?: boolean } = {}): SalesforceRecord[] => {
    const obj = org.schema.object(type);
    if (!obj) return [];
    return [...org.store.all(obj.name)]
      .filter((r) => opts.includeDeleted || r.values.IsDeleted !== true)
      .map((r) => ({ ...r.values }));
  };

  const insert = (type: string, list: readonly SeedRecord[]): string[] => {
    const obj = org.schema.object(type);
    if (!obj) throw notFound(`sObject type '${type}' is not supported.`);
    return org.store.transaction(() => list.map((body) => String(org.create(obj, { ...body }).values.Id)));
  };

  const service: SalesforceService = {
    name: 'salesforce',
    middleware,
    reset() {
      org.reset();
      sessions.clear();
      soql.reset();
      metadata.reset();
      usage.used = 0;
    },
    snapshot() {
      return {
        Account: records('Account'),
        Contact: records('Contact'),
        Clerk_Membership__c: records('Clerk_Membership__c'),
        apiUsage: { ...usage },
      };
    },
    records,
    expireSessions: () => sessions.expireAll(),
    setDailyApiLimit(max: number) {
      usage.max = max;
    },
    setApiUsage(used: number) {
      usage.used = used;
    },
    apiUsage: () => ({ ...usage }),
    setStrict: (strict: boolean) => {
      org.setStrict(strict);
      metadata.seed();
    },
    issueRefreshToken: () => sessions.issueRefreshToken(),
    addValidationRule(rule) {
      const id = rule.id ?? `rule_${randomBytes(6).toString('hex')}`;
      org.addRule({ ...rule, id });
      return id;
    },
    removeValidationRule: (id) => org.removeRule(id),
    insert,
    control: {
      expireSessions: () => {
        sessions.expireAll();
        return { ok: true };
      },
      setDailyApiLimit: (body) => {
        const max = Number((body as { max?: unknown } | undefined)?.max);
        if (!Number.isInteger(max) || max < 0)
          throw new Error('setDailyApiLimit needs {"max": <integer ≥ 0>}');
        usage.max = max;
        return { ...usage };
      },
      setApiUsage: (body) => {
        const used = Number((body as { used?: unknown } | undefined)?.used ?? 0);
        if (!Number.isInteger(used) || used < 0) throw new Error('setApiUsage needs {"used": <integer ≥ 0>}');
        usage.used = used;
        return { ...usage };
      },
      setStrict: (body) => {
        const strict = (body as { strict?: unknown } | undefined)?.strict;
        if (typeof strict !== 'boolean') throw new Error('setStrict needs {"strict": true|false}');
        org.setStrict(strict);
        metadata.seed();
        return { strict };
      },
      addValidationRule: (body) => {
        const parsed = ruleBody.safeParse(body);
        if (!parsed.success)
          throw new Error(
            `addValidationRule: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
          );
        return { id: service.addValidationRule(parsed.data) };
      },
      insert: (body) => {
        const { type, records: list } = (body ?? {}) as { type?: unknown; records?: unknown };
        if (typeof type !== 'string' || !Array.isArray(list) || !list.every(isPlainObject))
          throw new Error('insert needs {"type": "<sObject>", "records": [{…}, …]}');
        try {
          return { ids: insert(type, list) };
        } catch (err) {
          if (!(err instanceof SalesforceError)) throw err;
          throw new Error(`insert: ${err.errorCode}: ${err.message}`);
        }
      },
    },
  };
  return service;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isPlainObject(value: unknown): value is SeedRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bytes of the header block: every `Name: value` line with its CRLF. */
function headerBytes(raw: string[]): number {
  let total = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) total += raw[i]!.length + raw[i + 1]!.length + 4;
  return total;
}

function bearer(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const match = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header);
  return match?.[1];
}

function sendJson(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

/**
 * The raw request body. The framework may have read it already (a call log, a body parser):
 * use what it left on the request before reading the stream.
 */
async function readBody(ctx: Context): Promise<string> {
  const request = ctx.request as { rawBody?: unknown; body?: unknown };
  if (typeof request.rawBody === 'string') return request.rawBody;
  if (typeof request.body === 'string') return request.body;
  if (Buffer.isBuffer(request.body)) return request.body.toString('utf8');
  if (request.body !== undefined && request.body !== null) return JSON.stringify(request.body);
  if (!ctx.req.readable) return '';
  return getRawBody(ctx.req, { encoding: 'utf8', limit: '20mb' });
}

async function formParams(ctx: Context): Promise<URLSearchParams> {
  const request = ctx.request as { body?: unknown };
  if (request.body && typeof request.body === 'object' && !Buffer.isBuffer(request.body)) {
    const entries = Object.entries(request.body as Record<string, unknown>);
    return new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v as string)]));
  }
  return new URLSearchParams(await readBody(ctx));
}

/** `GET /services/data/`: one entry per supported version, labelled by release. */
function versions(): { label: string; url: string; version: string }[] {
  const seasons = ['Winter', 'Spring', 'Summer'];
  const list = [];
  for (let v = FIRST_VERSION; v <= LATEST_VERSION; v++) {
    const offset = v - 62; // 62.0 is Winter '25
    const season = seasons[((offset % 3) + 3) % 3]!;
    const year = 25 + Math.floor(offset / 3);
    list.push({
      label: `${season} '${String(year).padStart(2, '0')}`,
      url: `/services/data/v${v}.0`,
      version: `${v}.0`,
    });
  }
  return list;
}

function identity(instanceUrl: string, org: SalesforceOrg): Record<string, unknown> {
  const id = `${instanceUrl}/id/${org.organizationId}/${org.userId}`;
  return {
    id,
    asserted_user: true,
    user_id: org.userId,
    organization_id: org.organizationId,
    username: 'integration@clerk-sync.sandbox',
    nick_name: 'sbint',
    display_name: 'Sandbox Integration',
    email: 'integration@clerk-sync.sandbox',
    active: true,
    user_type: 'STANDARD',
    urls: {
      rest: `${instanceUrl}/services/data/v{version}/`,
      sobjects: `${instanceUrl}/services/data/v{version}/sobjects/`,
      query: `${instanceUrl}/services/data/v{version}/query/`,
      metadata: `${instanceUrl}/services/Soap/m/{version}/${org.organizationId.slice(0, 15)}`,
    },
  };
}
