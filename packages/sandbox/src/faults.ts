import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ServiceName } from './types';

/**
 * One fault: which calls it hits and how it answers them instead of the service. A faulted call never
 * reaches the service, so nothing it asked for is applied (like a real 5xx before the write).
 */
export interface FaultRule {
  id?: string;
  service: ServiceName;
  /** HTTP method, any case; every method when absent. */
  method?: string;
  /** Service-relative path (`/v1/users`, `/emails`): equal to it, or else a regular expression it matches. */
  path?: string | RegExp;
  /** Hit this many matching calls, then switch off; unlimited when absent. */
  times?: number;
  /** Wait this long first; on its own (no `status`, no `hang`) the call then reaches the service. */
  latencyMs?: number;
  /** Never answer: the client must time out or give up. */
  hang?: boolean;
  /**
   * Let the service process the call (everything it does applies: an email is recorded as sent, a record is
   * written), then drop its answer: `reset` resets the connection (the client sees ECONNRESET, "socket hang up"
   * or "fetch failed"), `hang` never sends it (the client times out). The call log keeps the service's status
   * as `droppedStatus`. Not with `status` or `hang`.
   */
  dropResponse?: 'reset' | 'hang';
  /**
   * Salesforce only: the call is processed and answered as the org answered it (success included), then every
   * record it wrote is put back as it was: a write acknowledged but never applied, which only a check of the
   * records can see (the fault suite's negative control). Not with `status`, `hang` or `dropResponse`.
   */
  discardWrites?: boolean;
  status?: number;
  /** Answer body: a string goes out as text, anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Chance (0..1) that a matching call is hit; calls it spares do not count towards `times`. */
  probability?: number;
  /** Switches off at this time (epoch ms or ISO 8601). */
  until?: number | string;
}

/** A rule as the sandbox keeps it: with its id and how many calls it has hit. */
export interface ActiveFault extends Omit<FaultRule, 'path' | 'until'> {
  id: string;
  path?: string;
  until?: number;
  hits: number;
}

/** The selector and pacing part of a rule, for the per-service builders below. */
export type FaultMatch = Pick<
  FaultRule,
  'id' | 'method' | 'path' | 'times' | 'probability' | 'until' | 'latencyMs'
>;

const ruleSchema = z
  .object({
    id: z.string().min(1).optional(),
    service: z.enum(['salesforce', 'clerk', 'resend', 'slack']),
    method: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    times: z.number().int().positive().optional(),
    latencyMs: z.number().nonnegative().optional(),
    hang: z.boolean().optional(),
    dropResponse: z.enum(['reset', 'hang']).optional(),
    discardWrites: z.literal(true).optional(),
    status: z.number().int().min(100).max(599).optional(),
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    probability: z.number().min(0).max(1).optional(),
    until: z.union([z.number(), z.iso.datetime({ offset: true })]).optional(),
  })
  .strict()
  .refine(
    (r) =>
      r.status !== undefined ||
      r.hang === true ||
      r.latencyMs !== undefined ||
      r.dropResponse !== undefined ||
      r.discardWrites === true,
    { message: 'a fault needs status, hang, latencyMs or dropResponse (Salesforce: or discardWrites)' },
  )
  .refine((r) => r.dropResponse === undefined || (r.status === undefined && r.hang !== true), {
    message: 'dropResponse drops the service’s own answer: it cannot come with status or hang',
  })
  .refine(
    (r) =>
      r.discardWrites === undefined ||
      (r.service === 'salesforce' &&
        r.status === undefined &&
        r.hang !== true &&
        r.dropResponse === undefined),
    { message: 'discardWrites undoes what Salesforce wrote and keeps its answer: Salesforce only, alone' },
  );

/** A rule that does not parse; the control API answers it with 400. */
export class FaultRuleInvalid extends Error {
  override readonly name = 'FaultRuleInvalid';
}

/** Checks an untrusted rule (the control API's JSON body). */
export function parseFaultRule(input: unknown): FaultRule {
  return checkRule(input);
}

function checkRule(input: unknown): z.infer<typeof ruleSchema> {
  const parsed = ruleSchema.safeParse(input);
  if (!parsed.success) {
    throw new FaultRuleInvalid(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

interface CompiledFault {
  fault: ActiveFault;
  method?: string;
  path?: string;
  pattern?: RegExp;
}

/** The sandbox's fault rules, checked in the order they were added; the first rule that hits wins. */
export class Faults {
  private rules: CompiledFault[] = [];

  /** Adds a rule (replacing one with the same id) and returns its id. */
  add(rule: FaultRule): string {
    const { path, until, ...rest } = checkRule({
      ...rule,
      path: rule.path instanceof RegExp ? rule.path.source : rule.path,
    });
    const id = rule.id ?? `fault_${randomBytes(6).toString('hex')}`;
    const untilMs = until === undefined ? undefined : typeof until === 'number' ? until : Date.parse(until);
    const fault: ActiveFault = {
      ...rest,
      id,
      hits: 0,
      ...(path && { path }),
      ...(untilMs && { until: untilMs }),
    };
    const pattern = rule.path instanceof RegExp ? rule.path : path ? toPattern(path) : undefined;
    this.remove(id);
    this.rules.push({ fault, method: rule.method?.toUpperCase(), path, pattern });
    return id;
  }

  /** Removes a rule; false when there was none with that id. */
  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.fault.id !== id);
    return this.rules.length !== before;
  }

  /** Removes every rule. */
  clear(): void {
    this.rules = [];
  }

  /** The rules still in force, with their hit counts. */
  list(): ActiveFault[] {
    this.prune(Date.now());
    return this.rules.map((r) => ({ ...r.fault }));
  }

  /** The rule that hits this call, if any, counting the hit (and retiring the rule after its `times`). */
  take(service: ServiceName, method: string, path: string): ActiveFault | undefined {
    if (this.rules.length === 0) return undefined;
    const now = Date.now();
    this.prune(now);
    for (const rule of this.rules) {
      const { fault } = rule;
      if (fault.service !== service) continue;
      if (rule.method && rule.method !== method) continue;
      if (rule.path !== undefined && rule.path !== path && !rule.pattern?.test(path)) continue;
      if (fault.probability !== undefined && Math.random() >= fault.probability) continue;
      fault.hits += 1;
      if (fault.times !== undefined && fault.hits >= fault.times) this.remove(fault.id);
      return { ...fault };
    }
    return undefined;
  }

  private prune(now: number): void {
    if (this.rules.some((r) => r.fault.until !== undefined && r.fault.until <= now)) {
      this.rules = this.rules.filter((r) => r.fault.until === undefined || r.fault.until > now);
    }
  }
}

function toPattern(path: string): RegExp | undefined {
  try {
    return new RegExp(path);
  } catch {
    return undefined; // not a valid expression: the rule matches the exact path only
  }
}

/**
 * The service processes the call, then its answer is lost (`reset`: the connection is reset; `hang`: never sent):
 * the client cannot tell whether the call applied. Works for any service and route, e.g.
 * `droppedResponse('resend', { method: 'POST', path: '/emails', times: 1 })`.
 */
export function droppedResponse(
  service: ServiceName,
  match: FaultMatch & { mode?: 'reset' | 'hang' } = {},
): FaultRule {
  const { mode, ...rest } = match;
  return { ...rest, service, dropResponse: mode ?? 'reset' };
}

/**
 * Salesforce answers the matching calls as usual, success included, but keeps none of their writes, e.g.
 * `discardedWrites({ method: 'POST', path: /\/composite$/, times: 1 })`.
 */
export function discardedWrites(match: FaultMatch = {}): FaultRule {
  return { ...match, service: 'salesforce', discardWrites: true };
}

const SALESFORCE_ERRORS: Record<string, { status: number; message: string }> = {
  UNABLE_TO_LOCK_ROW: {
    status: 400,
    message: 'unable to obtain exclusive access to this record or 1 records',
  },
  SERVER_UNAVAILABLE: { status: 503, message: 'Server is temporarily unavailable, please try again later.' },
  REQUEST_LIMIT_EXCEEDED: { status: 403, message: 'TotalRequests Limit exceeded.' },
  UNKNOWN_EXCEPTION: {
    status: 500,
    message:
      'An unexpected error occurred. Please include this ErrorId if you contact support: 0000000000-00000 (0000000000)',
  },
  INVALID_SESSION_ID: { status: 401, message: 'Session expired or invalid' },
  DUPLICATE_VALUE: { status: 400, message: 'duplicate value found' },
  REQUIRED_FIELD_MISSING: { status: 400, message: 'Required fields are missing: [LastName]' },
};

/** A Salesforce REST error as the real API sends it: `[{message, errorCode, fields}]` with its usual status. */
export function salesforceFault(
  errorCode: keyof typeof SALESFORCE_ERRORS | (string & {}),
  match: FaultMatch & { status?: number; message?: string; fields?: string[] } = {},
): FaultRule {
  const { status, message, fields, ...rest } = match;
  const known = SALESFORCE_ERRORS[errorCode];
  return {
    ...rest,
    service: 'salesforce',
    status: status ?? known?.status ?? 400,
    body: [{ message: message ?? known?.message ?? errorCode, errorCode, fields: fields ?? [] }],
  };
}

const CLERK_ERRORS: Record<string, { status: number; message: string; long_message: string }> = {
  too_many_requests: {
    status: 429,
    message: 'Too Many Requests',
    long_message: 'Too many requests, retry later',
  },
  internal_clerk_error: {
    status: 500,
    message: 'Oops, an unexpected error occurred',
    long_message:
      "There was an internal error on our servers. We've been notified and are working on fixing it.",
  },
  service_unavailable: {
    status: 503,
    message: 'Service unavailable',
    long_message: 'Service unavailable, retry later',
  },
  resource_locked: {
    status: 409,
    message: 'Resource locked',
    long_message: 'The resource is locked, retry later',
  },
};

/** A Clerk Backend API error: `{errors:[{message, long_message, code}], clerk_trace_id}`. */
export function clerkFault(
  code: keyof typeof CLERK_ERRORS | (string & {}),
  match: FaultMatch & { status?: number; message?: string; headers?: Record<string, string> } = {},
): FaultRule {
  const { status, message, headers, ...rest } = match;
  const known = CLERK_ERRORS[code];
  return {
    ...rest,
    service: 'clerk',
    status: status ?? known?.status ?? 400,
    ...(headers && { headers }),
    body: clerkErrorBody(code, message ?? known?.message ?? code, known?.long_message ?? message ?? code),
  };
}

/** Clerk's 429 with `Retry-After` (seconds), which @clerk/backend surfaces as `error.retryAfter`. */
export function clerkRateLimited(retryAfterSeconds = 10, match: FaultMatch = {}): FaultRule {
  return clerkFault('too_many_requests', { ...match, headers: { 'Retry-After': String(retryAfterSeconds) } });
}

/** Clerk's error envelope; shared with the Clerk stand-in. */
export function clerkErrorBody(
  code: string,
  message: string,
  longMessage: string,
  meta?: Record<string, unknown>,
) {
  return {
    errors: [{ message, long_message: longMessage, code, ...(meta && { meta }) }],
    clerk_trace_id: randomBytes(16).toString('hex'),
  };
}

const RESEND_ERRORS: Record<string, { status: number; message: string }> = {
  rate_limit_exceeded: {
    status: 429,
    message:
      'Too many requests. You can only make 2 requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.',
  },
  daily_quota_exceeded: { status: 429, message: 'You have reached your daily email sending quota.' },
  application_error: { status: 500, message: 'Something went wrong.' },
  internal_server_error: { status: 500, message: 'An unexpected error occurred.' },
};

/** A Resend error: `{statusCode, name, message}` (what the SDK returns as `{ error }`). */
export function resendFault(
  name: keyof typeof RESEND_ERRORS | (string & {}),
  match: FaultMatch & { status?: number; message?: string; headers?: Record<string, string> } = {},
): FaultRule {
  const { status, message, headers, ...rest } = match;
  const known = RESEND_ERRORS[name];
  const statusCode = status ?? known?.status ?? 400;
  return {
    ...rest,
    service: 'resend',
    status: statusCode,
    ...(headers && { headers }),
    body: { statusCode, name, message: message ?? known?.message ?? name },
  };
}

/** A Slack incoming-webhook error: a plain-text code (`rate_limited` comes with `Retry-After`). */
export function slackFault(
  text: string,
  match: FaultMatch & { status?: number; headers?: Record<string, string> } = {},
): FaultRule {
  const { status, headers, ...rest } = match;
  const rateLimited = text === 'rate_limited';
  return {
    ...rest,
    service: 'slack',
    status: status ?? (rateLimited ? 429 : 500),
    headers: headers ?? (rateLimited ? { 'Retry-After': '30' } : {}),
    body: text,
  };
}
