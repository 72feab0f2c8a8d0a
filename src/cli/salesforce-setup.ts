import type { Connection } from 'jsforce';
import { salesforceSession } from '../clients';
import { ConfigError, loadConfig, type Config } from '../config';
import { createLogger } from '../logger';
import {
  COMPONENT_TYPES,
  EXTERNAL_ID_FIELDS,
  PERMISSION_SET,
  SALESFORCE_COMPONENTS,
  toMetadata,
  type Component,
  type MetadataValue,
} from './salesforce-schema';
import { UsageError } from './usage-error';

// `clerk-sync salesforce setup [--check]`: brings the org's custom object, fields and permission set in line with
// src/cli/salesforce-schema.ts (= force-app/) through jsforce's Metadata API. It reads first and writes only what
// is missing or different, so a second run writes nothing; `--check` only reads.

/** Receives the command's output, one line at a time. */
export type Writer = (line: string) => void;

/** What a run found and did; `ok` decides the exit code. */
export interface SetupResult {
  ok: boolean;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  missing: number;
  different: number;
  /** The permission set's assignment to the user clerk-sync runs as. */
  assignment: 'assigned' | 'ok' | 'missing' | 'unknown';
}

/** A failure that ends the command with one readable message (no stack trace): bin.ts prints it, exit code 1. */
export class SalesforceSetupError extends UsageError {
  override readonly name = 'SalesforceSetupError';
}

/** Components per Metadata API CRUD call (Salesforce's limit). */
const BATCH = 10;

type Comparison = { kind: 'missing' } | { kind: 'different'; details: string[] } | { kind: 'same' };

/**
 * `clerk-sync salesforce setup [--check]` with the process's configuration (or `config`): returns the exit code,
 * 0 when the org matches (or now matches) force-app, 1 otherwise. Throws ConfigError without Salesforce settings.
 */
export async function salesforceSetupCommand(
  options: { check?: boolean; config?: Config; out?: Writer } = {},
): Promise<number> {
  const config = options.config ?? loadConfig();
  if (!config.salesforce) {
    throw new ConfigError([
      'SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: required by `salesforce setup` to reach the org ' +
        '(or SALESFORCE_INSTANCE_URL with SALESFORCE_ACCESS_TOKEN)',
    ]);
  }
  const out = options.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const settings = config.salesforce;
  const where = settings.kind === 'session' ? settings.instanceUrl : settings.loginUrl;
  const session = salesforceSession(settings, createLogger(config.logLevel, process.stderr));
  const conn = await guarded(`Salesforce login at ${where}`, () => session.connection());
  const result = await setupSalesforce(conn, { check: options.check ?? false, out });
  return result.ok ? 0 : 1;
}

/** Compares the org with the schema and, unless `check`, creates or updates what differs. */
export async function setupSalesforce(
  conn: Connection,
  { check, out }: { check: boolean; out: Writer },
): Promise<SetupResult> {
  const components = SALESFORCE_COMPONENTS;
  const result: SetupResult = {
    ok: true,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    missing: 0,
    different: 0,
    assignment: 'unknown',
  };
  out(
    `${check ? 'Checking' : 'Setting up'} the Salesforce org at ${conn.instanceUrl} (API ${conn.version}): ` +
      `${components.length} components (custom object, fields, permission set ${PERMISSION_SET})`,
  );
  const before = await readComponents(conn, components);
  const comparisons = components.map((c) => compare(c, before.get(keyOf(c.type, c.fullName))));

  if (check) {
    components.forEach((c, i) => {
      const cmp = comparisons[i]!;
      if (cmp.kind === 'same') result.unchanged++;
      else if (cmp.kind === 'missing') result.missing++;
      else result.different++;
      const label = cmp.kind === 'same' ? 'ok' : cmp.kind;
      out(line(label, c.type, c.fullName, cmp.kind === 'different' ? cmp.details.join('; ') : undefined));
    });
    for (const fullName of EXTERNAL_ID_FIELDS) {
      const field = before.get(keyOf('CustomField', fullName));
      if (field && !truthy(field.caseSensitive)) out(caseInsensitiveNote(fullName));
    }
    result.assignment = await permissionSetAssignment(conn, { check, out });
    result.ok = result.missing === 0 && result.different === 0 && result.assignment !== 'missing';
    const problems = [
      result.missing && `${result.missing} missing`,
      result.different && `${result.different} different`,
      result.assignment === 'missing' && `permission set ${PERMISSION_SET} not assigned`,
    ].filter(Boolean);
    out(
      problems.length === 0
        ? `Summary: all ${components.length} components match force-app.`
        : `Summary: ${problems.join(', ')}, ${result.unchanged} ok (${components.length} components): ` +
            'run `clerk-sync salesforce setup` to fix.',
    );
    return result;
  }

  // Write what differs, one metadata type at a time in dependency order, at most BATCH components per call.
  const outcomes = new Map<Component, { status: string; detail?: string }>();
  for (const type of COMPONENT_TYPES) {
    const todo = components.filter((c, i) => c.type === type && comparisons[i]!.kind !== 'same');
    for (let i = 0; i < todo.length; i += BATCH) {
      const batch = todo.slice(i, i + BATCH);
      const saved = await guarded(`Metadata API upsert of ${type}`, () =>
        conn.metadata.upsert(type, batch.map(toMetadata)),
      );
      batch.forEach((component, j) => {
        const res = saved[j];
        if (res?.success) outcomes.set(component, { status: res.created ? 'created' : 'updated' });
        else outcomes.set(component, { status: 'failed', detail: saveErrors(res?.errors) });
      });
    }
  }

  // Read back what was written: a component the org does not hold as defined has failed, whatever the answer said.
  const after = outcomes.size > 0 ? await readComponents(conn, components) : before;
  components.forEach((c, i) => {
    const outcome = outcomes.get(c);
    if (outcome && outcome.status !== 'failed') {
      const now = compare(c, after.get(keyOf(c.type, c.fullName)));
      if (now.kind !== 'same') {
        const detail = now.kind === 'missing' ? 'not found' : now.details.join('; ');
        outcomes.set(c, { status: 'failed', detail: `not as defined after the update: ${detail}` });
      }
    }
    const { status, detail } = outcomes.get(c) ?? { status: 'unchanged' };
    if (status === 'created') result.created++;
    else if (status === 'updated') result.updated++;
    else if (status === 'unchanged') result.unchanged++;
    else result.failed++;
    const cmp = comparisons[i]!;
    const changed = status === 'updated' && cmp.kind === 'different' ? cmp.details.join('; ') : undefined;
    out(line(status, c.type, c.fullName, detail ?? changed));
  });

  // The sync upserts on these: check them once more, in the org's own words.
  for (const fullName of EXTERNAL_ID_FIELDS) {
    const field = after.get(keyOf('CustomField', fullName));
    const indexed = field !== undefined && truthy(field.externalId) && truthy(field.unique);
    if (indexed && truthy(field.caseSensitive)) {
      out(line('verified', 'External ID', fullName, 'External ID, unique, case-sensitive'));
    } else {
      // Counted once: a field whose own update failed is already among the failures.
      const own = components.find((c) => c.type === 'CustomField' && c.fullName === fullName);
      if (!own || outcomes.get(own)?.status !== 'failed') result.failed++;
      const why = indexed
        ? 'case-insensitive in the org: Clerk ids that differ only in case would be one record'
        : 'not an External ID with a unique index in the org';
      out(line('failed', 'External ID', fullName, why));
    }
  }

  result.assignment = await permissionSetAssignment(conn, { check, out });
  result.ok = result.failed === 0;
  const total = components.length;
  if (!result.ok) {
    out(
      `Summary: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged, ` +
        `${result.failed} failed (${total} components): fix the errors above and run it again.`,
    );
  } else if (result.created + result.updated === 0) {
    out(`Summary: nothing changed: all ${total} components already match force-app.`);
  } else {
    out(
      `Summary: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged ` +
        `(${total} components).`,
    );
  }
  return result;
}

/** Why a case-insensitive External ID is a problem, in one line under --check. */
function caseInsensitiveNote(fullName: string): string {
  return (
    `note: ${fullName} is case-insensitive in the org ("Treat ABC and abc as duplicate values"): Clerk ids are ` +
    'case-sensitive, and two that differ only in case would collide (DUPLICATE_VALUE, or an upsert onto the ' +
    "other's record); `clerk-sync salesforce setup` makes it case-sensitive."
  );
}

/** One output line: status, what, which, and why. */
function line(status: string, type: string, name: string, detail?: string): string {
  return `${status.padEnd(10)} ${type.padEnd(24)} ${name}${detail ? ` (${detail})` : ''}`;
}

const keyOf = (type: string, fullName: string) => `${type}:${fullName.toLowerCase()}`;

/** Reads every component as the org holds it (absent: not in the map), at most BATCH per call. */
async function readComponents(
  conn: Connection,
  components: readonly Component[],
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for (const type of COMPONENT_TYPES) {
    const names = components.filter((c) => c.type === type).map((c) => c.fullName);
    for (let i = 0; i < names.length; i += BATCH) {
      const batch = names.slice(i, i + BATCH);
      const records = await guarded(`Metadata API read of ${type}`, () => conn.metadata.read(type, batch));
      // A name the org does not know comes back as an empty record (no fullName).
      for (const record of records as unknown as Record<string, unknown>[]) {
        if (typeof record?.fullName === 'string' && record.fullName !== '')
          found.set(keyOf(type, record.fullName), record);
      }
    }
  }
  return found;
}

/** Missing, the same, or which of the schema's properties the org holds otherwise (extra org properties are fine). */
function compare(component: Component, actual: Record<string, unknown> | undefined): Comparison {
  if (!actual) return { kind: 'missing' };
  const details: string[] = [];
  differences(component.metadata, actual, '', details);
  return details.length === 0 ? { kind: 'same' } : { kind: 'different', details };
}

function differences(desired: MetadataValue, actual: unknown, path: string, out: string[]): void {
  if (Array.isArray(desired)) {
    // Lists of permissions: matched by what they grant on, not by position.
    const list = (Array.isArray(actual) ? actual : actual == null ? [] : [actual]) as unknown[];
    for (const item of desired) {
      const key = ['field', 'object', 'fullName'].find((k) => k in item);
      const id = key ? scalarText(item[key]) : '';
      const match = list.find(
        (a) => isObject(a) && key !== undefined && scalarText(a[key]).toLowerCase() === id.toLowerCase(),
      );
      if (match === undefined) out.push(`${path} ${id}: not in the org`);
      else differences(item, match, `${path} ${id}`, out);
    }
  } else if (typeof desired === 'object') {
    const obj = isObject(actual) ? actual : {};
    for (const [k, v] of Object.entries(desired)) differences(v, obj[k], path ? `${path}.${k}` : k, out);
  } else if (!sameScalar(desired, actual)) {
    const held = scalarText(actual) || 'none';
    out.push(`${path}: ${held} in the org, ${String(desired)} in force-app`);
  }
}

/** Metadata comes back typed by jsforce (or as text); an absent boolean reads as false. */
function sameScalar(desired: string | number | boolean, actual: unknown): boolean {
  if (typeof desired === 'boolean') return desired === truthy(actual);
  if (typeof desired === 'number') return Number(actual) === desired;
  return scalarText(actual) === desired;
}

/** A scalar as text; '' for nothing (or for an element where a scalar was expected). */
function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : '';
}

const truthy = (value: unknown): boolean => value === true || value === 'true';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A SaveResult's errors as Salesforce words them: `STATUS_CODE: message`, one per error. */
function saveErrors(errors: unknown): string {
  const list = (Array.isArray(errors) ? errors : errors ? [errors] : []) as {
    statusCode?: string;
    message?: string;
  }[];
  if (list.length === 0) return 'UNKNOWN_ERROR: the Metadata API answered without success or error';
  return list.map((e) => `${e.statusCode ?? 'UNKNOWN_ERROR'}: ${e.message ?? ''}`).join('; ');
}

/**
 * Makes sure the permission set is assigned to the user clerk-sync runs as (the token's user: for client
 * credentials, the connected app's run-as user). Where that cannot be done or checked, says how to do it by hand.
 */
async function permissionSetAssignment(
  conn: Connection,
  { check, out }: { check: boolean; out: Writer },
): Promise<SetupResult['assignment']> {
  let userId = conn.userInfo?.id;
  let username: string | undefined;
  try {
    const identity = await conn.identity();
    userId = identity.user_id;
    username = identity.username;
  } catch {
    // The token's id URL is enough to know the user id; the name only makes the message friendlier.
  }
  const who = username ? `${username} (${userId})` : (userId ?? 'the integration user');
  const type = 'PermissionSetAssignment';
  const how =
    `note: assign permission set ${PERMISSION_SET} to ${username ?? 'the integration user'} (the user clerk-sync ` +
    `runs as): Setup > Permission Sets > Clerk Sync > Manage Assignments, or \`sf org assign permset --name ` +
    `${PERMISSION_SET} --on-behalf-of ${username ?? '<username>'}\``;
  if (!userId || !/^[a-zA-Z0-9]{15,18}$/.test(userId)) {
    out('note: could not tell which user clerk-sync runs as.');
    out(how);
    return 'unknown';
  }
  try {
    const sets = await conn.query<{ Id: string }>(
      `SELECT Id FROM PermissionSet WHERE Name = '${PERMISSION_SET}'`,
    );
    const setId = sets.records[0]?.Id;
    if (!setId) {
      if (check) {
        out(line('missing', type, `${PERMISSION_SET} to ${who}`, 'the permission set does not exist yet'));
        return 'missing';
      }
      throw new Error(`permission set ${PERMISSION_SET} not found by SOQL`);
    }
    const assigned = await conn.query<{ Id: string }>(
      `SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '${userId}' AND PermissionSetId = '${setId}'`,
    );
    if (assigned.totalSize > 0) {
      out(line(check ? 'ok' : 'unchanged', type, `${PERMISSION_SET} to ${who}`));
      return 'ok';
    }
    if (check) {
      out(line('missing', type, `${PERMISSION_SET} to ${who}`));
      return 'missing';
    }
    const res = await conn.sobject(type).create({ AssigneeId: userId, PermissionSetId: setId });
    if (!res.success) throw new Error(saveErrors((res as { errors?: unknown }).errors));
    out(line('assigned', type, `${PERMISSION_SET} to ${who}`));
    return 'assigned';
  } catch (err) {
    const what = check ? 'could not check whether' : 'could not assign';
    out(
      `note: ${what} permission set ${PERMISSION_SET} ${check ? 'is assigned ' : ''}here (${describe(err)}).`,
    );
    out(how);
    return 'unknown';
  }
}

/** Runs one Salesforce call; its failure becomes one readable SalesforceSetupError. */
async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new SalesforceSetupError(`${what} failed: ${describe(err)}`);
  }
}

/** `CODE: message` from jsforce's errors (REST `errorCode`, SOAP `sf:CODE`, OAuth `name`), or the message. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { errorCode?: unknown; cause?: unknown };
  const raw =
    typeof e.errorCode === 'string'
      ? e.errorCode
      : !['Error', 'TypeError', 'FetchError'].includes(e.name)
        ? e.name
        : undefined;
  const code = raw?.replace(/^\w+:/, '');
  const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
  // A SOQL error repeats the query with a caret before the reason: keep the reason, on one line.
  const reason = e.message.replace(/^[\s\S]*ERROR at Row:\d+:Column:\d+\s*/, '');
  const message = `${reason}${cause}`.replace(/\s+/g, ' ').trim();
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}
