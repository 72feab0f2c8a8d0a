import * as v from 'valibot';

// The parts of Clerk's webhook payloads the product uses (reference/clerk-svix.md §3). Objects are loose:
// Clerk adds fields over time, and an unknown field must never fail a sync.
//
// Why valibot here when config and the API use zod: these schemas run inside workflow code, and the Temporal SDK
// evaluates a workflow bundle's modules once per workflow run. zod's module set-up alone took 40% of the workflow
// thread's CPU in `npm run bench -- --cpu-prof`; valibot's schemas are plain objects and functions that never
// mutate, so the worker loads this module once per process (`preloadModules`, src/workflow-bundle.ts) and every
// run shares it. Keep this module free of state and of imports other than valibot.

const id = v.pipe(v.string(), v.minLength(1));
const optionalText = v.nullish(v.string());
/** Clerk timestamps are milliseconds since the epoch. */
const millis = v.pipe(v.number(), v.integer(), v.minValue(0));
/** A default built per parse: a shared literal would be one (frozen) array handed to every run. */
const none = () => [];

/** `user.created` / `user.updated` data (UserJSON). */
export const ClerkUser = v.looseObject({
  id,
  first_name: optionalText,
  last_name: optionalText,
  username: optionalText,
  primary_email_address_id: optionalText,
  primary_phone_number_id: optionalText,
  email_addresses: v.optional(v.array(v.looseObject({ id, email_address: v.string() })), none),
  phone_numbers: v.optional(v.array(v.looseObject({ id, phone_number: v.string() })), none),
  updated_at: millis,
});
export type ClerkUser = v.InferOutput<typeof ClerkUser>;

/** `organization.created` / `.updated` data, and the organization embedded in a membership (OrganizationJSON). */
export const ClerkOrganization = v.looseObject({
  id,
  name: v.pipe(v.string(), v.minLength(1)),
  slug: optionalText,
  private_metadata: v.nullish(v.record(v.string(), v.unknown())),
  updated_at: millis,
});
export type ClerkOrganization = v.InferOutput<typeof ClerkOrganization>;

/** `organizationMembership.*` data (OrganizationMembershipJSON): the full membership, also on deletion. */
export const ClerkMembership = v.looseObject({
  id,
  role: v.pipe(v.string(), v.minLength(1)),
  organization: ClerkOrganization,
  public_user_data: v.looseObject({
    user_id: id,
    first_name: optionalText,
    last_name: optionalText,
    identifier: optionalText,
    username: optionalText,
  }),
  updated_at: millis,
});
export type ClerkMembership = v.InferOutput<typeof ClerkMembership>;

/** `user.deleted` and `organization.deleted` data: only the id (and the slug for an organization). */
export const ClerkDeleted = v.looseObject({ id, slug: optionalText });
export type ClerkDeleted = v.InferOutput<typeof ClerkDeleted>;

/** One of the schemas above. */
export type ClerkSchema<T> = v.GenericSchema<unknown, T>;

/** A payload checked against a schema: its typed value, or what is wrong with it as `path: message` lines. */
export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/**
 * Checks `raw` against a schema. Problems name the path and what was expected, never the value received (they
 * land in workflow histories and logs): `updated_at: expected a number`, `organization.name: missing`.
 */
export function checkClerk<T>(schema: ClerkSchema<T>, raw: unknown): Checked<T> {
  const result = v.safeParse(schema, raw);
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, problems: result.issues.map(describe) };
}

function describe(issue: v.BaseIssue<unknown>): string {
  const path = v.getDotPath(issue) ?? '(root)';
  if (issue.kind === 'schema' && issue.received === 'undefined') return `${path}: missing`;
  return `${path}: expected ${issue.expected ?? issue.type}`;
}
