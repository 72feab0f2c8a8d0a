import type { ClerkClient } from '@clerk/backend';
import { activityInfo, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { emptyCounts, type BackfillCounts } from '../shared/backfill-counts';
import { checkClerk, ClerkMembership, ClerkOrganization, ClerkUser, type ClerkSchema } from '../shared/clerk';
import {
  accountFromOrganization,
  contactFromMembership,
  contactFromUser,
  linkedAccountId,
  membershipFrom,
} from '../shared/mapping';
import { classified, classifyClerk, classifySalesforce, SalesforceError } from './errors';
import type { SalesforceSession } from './salesforce';
import {
  CompositePlan,
  engineFor,
  firstRecord,
  SALESFORCE_LIMITS,
  soql,
  type SalesforceEngine,
  type SaveResult,
} from './salesforce-engine';

// `clerk-sync backfill` (SPEC.md "Operators"): one activity per page of Clerk records. Each page costs one
// Salesforce read (the stored versions of every record on the page) and, when anything changed, writes through the
// Salesforce engine: records absent at the read are created as sObject Collections, never upserted — if a webhook
// created one in between (a `user.deleted` tombstone, say), the create meets DUPLICATE_VALUE and leaves it alone.
// Records older than Clerk are updated under the webhook path's guard, in the same request: a query that finds the
// record only while what it holds is still older (and not Deleted), and an update of what it found. A webhook's
// newer write that lands between the read and the write therefore survives. Clerk_Status__c is never touched, so a
// deletion is never undone.

/** The three kinds of records, in the order a backfill imports them (memberships need both ends). */
export type BackfillKind = 'organizations' | 'users' | 'memberships';

export type { BackfillCounts } from '../shared/backfill-counts';

/** Where a backfill is: a phase, the Clerk offset in it, and for memberships the organization being listed. */
export interface BackfillCursor {
  phase: BackfillKind;
  /** Users or organizations: the Clerk list offset. Memberships: the offset inside the current organization. */
  offset: number;
  /** Memberships: the index of the organization (Clerk's list, oldest first) whose memberships come next. */
  organizationIndex: number;
}

/** One page to import. */
export interface BackfillPageRequest {
  cursor: BackfillCursor;
  /** Records per page: at most 200, one sObject Collection. */
  pageSize: number;
  /** Count what would change; write nothing. */
  dryRun: boolean;
}

/** A record Salesforce rejected for good, by Clerk id and code (never field values: they land in history). */
export interface BackfillFailure {
  kind: BackfillKind;
  id: string;
  code: string;
}

/** What a page did, and where the next one starts (`null`: the phase is complete). */
export interface BackfillPageResult {
  counts: Partial<Record<BackfillKind, BackfillCounts>>;
  /** Contacts whose empty AccountId was set to their oldest membership's Account. */
  accountIdsSet: number;
  next: BackfillCursor | null;
  /** Clerk's total of the list this phase walks (users, or organizations), for the progress bar. */
  total: number | null;
  failures: BackfillFailure[];
}

/** The largest page: Salesforce takes 200 records per sObject Collection and keeps `IN (…)` lists well in bounds. */
export const MAX_PAGE_SIZE = 200;
/** Clerk look-ups of a user's memberships running at once (only for Contacts without an Account). */
const LOOKUP_CONCURRENCY = 5;
const CLERK_PAGE = 100;

/** A resumed attempt's checkpoint: the page's result once written, and the look-ups done so far. */
interface Checkpoint {
  cursor: BackfillCursor;
  lookups?: Record<string, string[]>;
  result?: BackfillPageResult;
}

const sameCursor = (a: BackfillCursor, b: BackfillCursor) =>
  a.phase === b.phase && a.offset === b.offset && a.organizationIndex === b.organizationIndex;

/** The checkpoint an earlier attempt of this page left, if any. */
function checkpointFor(cursor: BackfillCursor): Checkpoint {
  const details = activityInfo().heartbeatDetails as Checkpoint | undefined;
  return details && sameCursor(details.cursor, cursor) ? details : { cursor };
}

/** Clerk failures are decided by Clerk's classifier; everything else in a page is Salesforce's. */
async function fromClerk<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyClerk(err);
  }
}

function requireClerk(clerk: ClerkClient | undefined): ClerkClient {
  if (clerk) return clerk;
  throw ApplicationFailure.create({
    type: 'ClerkNotConfigured',
    message: 'CLERK_SECRET_KEY is not set: a backfill reads every record from Clerk',
    nonRetryable: true,
  });
}

function parse<T>(schema: ClerkSchema<T>, raw: unknown): T | undefined {
  const checked = checkClerk(schema, raw);
  return checked.ok ? checked.value : undefined;
}

/** A listed page of organizations or users: its result to fill in, and its records parsed (an unusable one counts as failed). */
function openPage<T>(
  kind: 'organizations' | 'users',
  schema: ClerkSchema<T>,
  page: { data: { id: string; raw: unknown }[]; totalCount: number },
  input: BackfillPageRequest,
): { counts: BackfillCounts; result: BackfillPageResult; records: T[] } {
  const { offset } = input.cursor;
  const counts = emptyCounts();
  const result: BackfillPageResult = {
    counts: { [kind]: counts },
    accountIdsSet: 0,
    next: lastPage(offset, page.data.length, page.totalCount, input.pageSize)
      ? null
      : { ...input.cursor, offset: offset + page.data.length },
    total: page.totalCount,
    failures: [],
  };
  const records: T[] = [];
  for (const item of page.data) {
    counts.seen += 1;
    const record = parse(schema, item.raw);
    if (record) records.push(record);
    else {
      counts.failed += 1;
      result.failures.push({ kind, id: item.id, code: 'INVALID_CLERK_DATA' });
    }
  }
  return { counts, result, records };
}

type SObjectType = 'Account' | 'Contact' | 'Clerk_Membership__c';

/** One record to write: a create (with the relationship-by-External-ID lookups it needs) or an update by Id. */
interface Write {
  kind: BackfillKind;
  clerkId: string;
  op: 'create' | 'update';
  type: SObjectType;
  record: Record<string, unknown>;
  /** An update's condition (SOQL), checked in the same request: the record is updated only while it holds. */
  guard?: string;
  /** A Contact created with its AccountId (counted in `accountIdsSet` too). */
  setsAccountId?: boolean;
  /**
   * A dry run's Contact or Account that the memberships phase finds missing: the users or organizations phase
   * already counted it (nothing was written), so it is not counted twice.
   */
  countedBefore?: boolean;
}

/** A contact's empty AccountId to set (counted apart: it is not a change of the user's own fields). */
interface AccountIdWrite {
  userId: string;
  contactId: string;
  organizationId: string;
}

/** What Salesforce holds for one record: enough to decide created / updated / unchanged / skipped. */
interface Stored {
  Id: string;
  Clerk_Status__c?: string | null;
  Clerk_Updated_At__c?: number | string | null;
  AccountId?: string | null;
  Clerk_Organization_Id__c?: string | null;
}

/** Older than Clerk, or written without a version (a Contact a membership event created). */
const isOlder = (stored: Stored, version: number) =>
  stored.Clerk_Updated_At__c === null ||
  stored.Clerk_Updated_At__c === undefined ||
  Number(stored.Clerk_Updated_At__c) < version;

const isDeleted = (stored: Stored | undefined) => stored?.Clerk_Status__c === 'Deleted';

/**
 * The write that brings one record up to Clerk's `version`: none when Salesforce holds it as Deleted or as new
 * (counted), an update of the stored record by Id (`changes`, never its status), or the create `create()` gives.
 */
function versionedWrite(
  target: Pick<Write, 'kind' | 'clerkId' | 'type'>,
  current: Stored | undefined,
  version: number,
  changes: Record<string, unknown>,
  counts: BackfillCounts,
  create: () => Write,
): Write | undefined {
  if (isDeleted(current)) counts.skippedDeleted += 1;
  else if (current && !isOlder(current, version)) counts.unchanged += 1;
  else if (current)
    return {
      ...target,
      op: 'update',
      record: { Id: current.Id, ...changes, Clerk_Updated_At__c: version },
      guard: `Clerk_Status__c != 'Deleted' AND (Clerk_Updated_At__c = null OR Clerk_Updated_At__c < ${version})`,
    };
  else return create();
  return undefined;
}

/** A read over lists of values: the query `build` makes of a SOQL list, per list. */
type ListQuery = { values: Iterable<string>; build: (list: string) => string };

/** Runs reads as one Composite call where they fit (each list cut to Salesforce's URL limit; every page read). */
async function read(
  sf: SalesforceEngine,
  queries: Record<string, ListQuery | undefined>,
): Promise<Record<string, Record<string, unknown>[]>> {
  const plan = new CompositePlan();
  const refs = Object.entries(queries).filter((e): e is [string, ListQuery] => e[1] !== undefined);
  for (const [ref, q] of refs) plan.queryIn(ref, q.values, q.build);
  const res = await sf.send(plan);
  return Object.fromEntries(refs.map(([ref]) => [ref, res.records(ref)]));
}

/** Indexes stored records by one of their fields. */
function byField(records: Record<string, unknown>[], field: string): Map<string, Stored> {
  const map = new Map<string, Stored>();
  for (const r of records) if (typeof r[field] === 'string') map.set(r[field], r as unknown as Stored);
  return map;
}

/** An update whose guard no longer held: Salesforce got newer data (or a deletion) since the read. */
const NEWER = 'NEWER_IN_SALESFORCE';

/**
 * The writes of one page through the engine: creates as sObject Collections (parents before children: a
 * membership's Contact__r and Account__r resolve against records created above it), updates as guarded pairs of
 * subrequests, as few Composite calls as that takes.
 */
async function write(
  sf: SalesforceEngine,
  writes: Write[],
  accountIds: AccountIdWrite[],
): Promise<{ outcomes: (SaveResult | undefined)[]; accountIdOutcomes: (SaveResult | undefined)[] }> {
  const order: SObjectType[] = ['Account', 'Contact', 'Clerk_Membership__c'];
  const plan = new CompositePlan();
  const read: (() => void)[] = [];
  const outcomes: (SaveResult | undefined)[] = writes.map(() => undefined);
  const accountIdOutcomes: (SaveResult | undefined)[] = accountIds.map(() => undefined);
  let n = 0;
  for (const type of order) {
    const creates = writes.flatMap((w, i) => (w.type === type && w.op === 'create' ? [i] : []));
    for (let c = 0; c < creates.length; c += SALESFORCE_LIMITS.collection) {
      const indexes = creates.slice(c, c + SALESFORCE_LIMITS.collection);
      const ref = `create${n++}`;
      plan.createMany(
        ref,
        type,
        indexes.map((i) => writes[i]!.record),
      );
      read.push(() => indexes.forEach((i, k) => (outcomes[i] = result.saves(ref)[k] ?? wholeFailure(ref))));
    }
    writes.forEach((w, i) => {
      if (w.type !== type || w.op !== 'update') return;
      const { Id, ...fields } = w.record;
      const ref = `update${n++}`;
      plan.query(
        `${ref}Guard`,
        `SELECT Id FROM ${type} WHERE Id = ${soql(String(Id))} AND ${w.guard ?? 'Id != null'}`,
      );
      plan.update(ref, type, firstRecord(`${ref}Guard`), fields);
      read.push(() => (outcomes[i] = guardedOutcome(ref)));
    });
  }
  // A Contact's empty AccountId, as Collections (a page's Contacts, one subrequest): the read saw it empty. A
  // membership event that sets it in between picks one of the same user's Accounts, so what lands is still one of
  // them; a per-record guard here would cost two subrequests per Contact of a first import.
  for (let c = 0; c < accountIds.length; c += SALESFORCE_LIMITS.collection) {
    const slice = accountIds.slice(c, c + SALESFORCE_LIMITS.collection);
    const ref = `accountIds${n++}`;
    plan.updateMany(
      ref,
      'Contact',
      slice.map((a) => ({ Id: a.contactId, Account: { Clerk_Organization_Id__c: a.organizationId } })),
    );
    read.push(() =>
      slice.forEach((_, k) => (accountIdOutcomes[c + k] = result.saves(ref)[k] ?? wholeFailure(ref))),
    );
  }
  if (plan.subrequests.length === 0) return { outcomes, accountIdOutcomes };
  const result = await sf.send(plan, { check: false });
  const wholeFailure = (ref: string): SaveResult => ({
    success: false,
    errors: [{ statusCode: result.codeOf(ref) ?? 'NO_RESULT' }],
  });
  const guardedOutcome = (ref: string): SaveResult => {
    if (result.succeeded(ref)) return { success: true };
    const failure = result.failure([`${ref}Guard`, `${ref}Account`, ref]);
    if (failure)
      return { success: false, errors: [{ statusCode: failure.errorCode, message: failure.message }] };
    return { success: false, errors: [{ statusCode: NEWER }] };
  };
  read.forEach((r) => r());
  return { outcomes, accountIdOutcomes };
}

const codeOf = (r: SaveResult | undefined) =>
  r?.errors?.[0]?.statusCode ?? r?.errors?.[0]?.errorCode ?? 'NO_RESULT';

/**
 * Applies a page's plan (or, in a dry run, only counts it). A record that Salesforce rejects for good is counted as
 * failed and reported; a transient rejection (a lock, the API limit) fails the page, which is retried as a whole.
 */
async function apply(
  sf: SalesforceEngine,
  page: { writes: Write[]; accountIds: AccountIdWrite[]; dryRun: boolean },
  result: BackfillPageResult,
): Promise<void> {
  const counts = (kind: BackfillKind) => (result.counts[kind] ??= emptyCounts());
  if (page.dryRun) {
    for (const w of page.writes)
      if (!w.countedBefore) counts(w.kind)[w.op === 'create' ? 'created' : 'updated'] += 1;
    result.accountIdsSet += page.accountIds.length + page.writes.filter((w) => w.setsAccountId).length;
    return;
  }
  if (page.writes.length === 0 && page.accountIds.length === 0) return;
  const { outcomes, accountIdOutcomes } = await write(sf, page.writes, page.accountIds);
  const rejected = (r: SaveResult | undefined) => {
    const code = codeOf(r);
    const failure = classifySalesforce(new SalesforceError(code, r?.errors?.[0]?.message ?? 'failed'));
    if (!failure.nonRetryable) throw failure; // the whole page again: every write is idempotent
    return code;
  };
  page.writes.forEach((w, i) => {
    const r = outcomes[i];
    if (r?.success) {
      counts(w.kind)[w.op === 'create' ? 'created' : 'updated'] += 1;
      if (w.setsAccountId) result.accountIdsSet += 1;
      return;
    }
    const code = rejected(r);
    // Created in between (a webhook landed first), or newer since the read: what is there stands.
    if (w.op === 'create' && code === 'DUPLICATE_VALUE') counts(w.kind).unchanged += 1;
    else if (w.op === 'update' && code === NEWER) counts(w.kind).unchanged += 1;
    else if (code === 'ENTITY_IS_DELETED') counts(w.kind).skippedDeleted += 1;
    else {
      counts(w.kind).failed += 1;
      result.failures.push({ kind: w.kind, id: w.clerkId, code });
    }
  });
  page.accountIds.forEach((a, i) => {
    const r = accountIdOutcomes[i];
    if (r?.success) result.accountIdsSet += 1;
    else if (codeOf(r) === NEWER)
      return; // set in between (a membership event): it stands
    else result.failures.push({ kind: 'users', id: a.userId, code: `AccountId ${rejected(r)}` });
  });
}

/** Fields of an Account, its External ID and status on create. */
function accountWrites(
  orgs: ClerkOrganization[],
  stored: Map<string, Stored>,
  linked: Map<string, Stored>,
  counts: BackfillCounts,
): Write[] {
  const writes: Write[] = [];
  for (const org of orgs) {
    const fields = accountFromOrganization(org);
    const { Clerk_Organization_Id__c: _id, ...changes } = fields;
    const target = { kind: 'organizations', clerkId: org.id, type: 'Account' } as const;
    const record = { ...fields, Clerk_Status__c: 'Active', Clerk_Updated_At__c: org.updated_at };
    // Made for an existing Account (`POST /api/organizations`): land on that Account, never a second one.
    const link = linked.get(linkedAccountId(org.private_metadata) ?? '');
    const write = versionedWrite(target, stored.get(org.id), org.updated_at, changes, counts, () =>
      link && !link.Clerk_Organization_Id__c
        ? {
            ...target,
            op: 'update',
            record: { Id: link.Id, ...record },
            guard: 'Clerk_Organization_Id__c = null',
          }
        : { ...target, op: 'create', record },
    );
    if (write) writes.push(write);
  }
  return writes;
}

const ACCOUNT_FIELDS =
  'SELECT Id, Clerk_Organization_Id__c, Clerk_Status__c, Clerk_Updated_At__c FROM Account';

/** The Accounts of these organizations, and the Accounts organizations were created for (`linkIds`). */
const accountQueries = (orgIds: Iterable<string>, linkIds: string[]): Record<string, ListQuery> => ({
  accounts: {
    values: orgIds,
    build: (list) => `${ACCOUNT_FIELDS} WHERE Clerk_Organization_Id__c IN ${list}`,
  },
  linked: { values: linkIds, build: (list) => `${ACCOUNT_FIELDS} WHERE Id IN ${list}` },
});

/** The end of a Clerk list: a short page, or Clerk's total reached (no empty page to fetch after it). */
const lastPage = (offset: number, length: number, total: number, pageSize: number) =>
  length < pageSize || offset + length >= total;

/**
 * Runs `fn` over `items`, `limit` at a time. After a failure no new item starts, but the running ones finish (and
 * heartbeat what they found) before the failure is thrown: the retry resumes from there.
 */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const run = async () => {
    while (!failure && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  if (failure) throw failure.err;
}

/** A user's organizations, oldest membership first (as `listUserMemberships` orders them); [] once deleted. */
async function organizationsOf(clerk: ClerkClient, userId: string): Promise<string[]> {
  const found: { orgId: string; joinedAt: number }[] = [];
  for (let offset = 0; ; offset += CLERK_PAGE) {
    let page;
    try {
      page = await clerk.users.getOrganizationMembershipList({ userId, limit: CLERK_PAGE, offset });
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) return []; // deleted since: its user.deleted follows
      throw classifyClerk(err);
    }
    found.push(...page.data.map((m) => ({ orgId: m.organization.id, joinedAt: m.createdAt })));
    if (page.data.length < CLERK_PAGE || found.length >= page.totalCount) break;
  }
  return found.sort((a, b) => a.joinedAt - b.joinedAt).map((f) => f.orgId);
}

/**
 * Decides a page of memberships against what Salesforce holds (one read): each membership created, updated or left;
 * a missing Contact or Account created from the membership (as the `organizationMembership.created` webhook does);
 * and the empty AccountId of each Contact set to the Account of the user's oldest membership, which may belong to
 * an organization another page lists, so it is looked up in Clerk (only for Contacts without an Account).
 */
async function planMemberships(
  sf: SalesforceEngine,
  memberships: ClerkMembership[],
  organizationsOfUser: (userId: string) => Promise<string[]>,
  result: BackfillPageResult,
  dryRun: boolean,
): Promise<{ writes: Write[]; accountIds: AccountIdWrite[] }> {
  const counts = (kind: BackfillKind) => (result.counts[kind] ??= emptyCounts());
  const userIds = new Set(memberships.map((m) => m.public_user_data.user_id));
  const orgs = new Map(memberships.map((m) => [m.organization.id, m.organization]));
  const links = [...orgs.values()].flatMap((o) => linkedAccountId(o.private_metadata) ?? []);
  const stored = await read(sf, {
    memberships: {
      values: memberships.map((m) => m.id),
      build: (list) =>
        `SELECT Id, Clerk_Membership_Id__c, Clerk_Updated_At__c FROM Clerk_Membership__c WHERE Clerk_Membership_Id__c IN ${list}`,
    },
    contacts: {
      values: userIds,
      build: (list) =>
        `SELECT Id, Clerk_User_Id__c, Clerk_Status__c, AccountId FROM Contact WHERE Clerk_User_Id__c IN ${list}`,
    },
    ...accountQueries(orgs.keys(), links),
  });
  stored.accounts = [...(stored.accounts ?? []), ...(stored.linked ?? [])];
  const contacts = byField(stored.contacts ?? [], 'Clerk_User_Id__c');
  const accounts = byField(stored.accounts ?? [], 'Clerk_Organization_Id__c');
  const existing = byField(stored.memberships ?? [], 'Clerk_Membership_Id__c');

  // Organizations and users that Clerk made after their own phase went past: their Account or Contact first.
  const missingOrgs = [...orgs.values()].filter((o) => !accounts.has(o.id));
  const orgCounts = counts('organizations');
  if (!dryRun) orgCounts.seen += missingOrgs.length;
  const writes = accountWrites(missingOrgs, accounts, byField(stored.accounts ?? [], 'Id'), orgCounts);
  const newAccounts = new Set(missingOrgs.map((o) => o.id));
  for (const w of writes) w.countedBefore = dryRun;
  const newContacts = new Map<string, Write>();
  const membershipCounts = counts('memberships');
  for (const m of memberships) {
    const userId = m.public_user_data.user_id;
    const contact = contacts.get(userId);
    if (isDeleted(contact) || isDeleted(accounts.get(m.organization.id))) {
      membershipCounts.skippedDeleted += 1;
      continue;
    }
    if (!contact && !newContacts.has(userId)) {
      // Without a version, like the webhook path: the user's own data (next run's users phase) overwrites it.
      const create: Write = {
        kind: 'users',
        clerkId: userId,
        op: 'create',
        type: 'Contact',
        record: { ...contactFromMembership(m), Clerk_Status__c: 'Active' },
        countedBefore: dryRun,
      };
      newContacts.set(userId, create);
      if (!dryRun) counts('users').seen += 1;
      writes.push(create);
    }
    const { Role__c } = membershipFrom(m);
    const target = { kind: 'memberships', clerkId: m.id, type: 'Clerk_Membership__c' } as const;
    const write = versionedWrite(
      target,
      existing.get(m.id),
      m.updated_at,
      { Role__c },
      membershipCounts,
      () => ({
        ...target,
        op: 'create',
        record: {
          Clerk_Membership_Id__c: m.id,
          Role__c,
          Clerk_Updated_At__c: m.updated_at,
          // Resolved by External ID inside the same call, after the parents created above.
          Contact__r: { Clerk_User_Id__c: userId },
          Account__r: { Clerk_Organization_Id__c: m.organization.id },
        },
      }),
    );
    if (write) writes.push(write);
  }

  // Contacts without an Account: the Account of the user's oldest membership (SPEC: "when it has none").
  const withoutAccount = [...userIds].filter((userId) => {
    const contact = contacts.get(userId);
    return contact ? !isDeleted(contact) && !contact.AccountId : newContacts.has(userId);
  });
  const oldestFirst = new Map<string, string[]>();
  await pool(withoutAccount, LOOKUP_CONCURRENCY, async (userId) => {
    oldestFirst.set(userId, await organizationsOfUser(userId));
  });
  const unknown = new Set(
    [...oldestFirst.values()].flat().filter((orgId) => !accounts.has(orgId) && !newAccounts.has(orgId)),
  );
  if (unknown.size > 0) {
    const { accounts: more = [] } = await read(sf, { accounts: accountQueries(unknown, []).accounts });
    for (const [orgId, account] of byField(more, 'Clerk_Organization_Id__c')) accounts.set(orgId, account);
  }
  const accountIds: AccountIdWrite[] = [];
  for (const [userId, orgIds] of oldestFirst) {
    let chosen: string | undefined;
    for (const orgId of orgIds) {
      const account = accounts.get(orgId);
      if (isDeleted(account)) continue;
      // Not in Salesforce yet: a later page creates it and sets the AccountId then, oldest still first.
      if (account || newAccounts.has(orgId)) chosen = orgId;
      break;
    }
    if (!chosen) continue;
    const account = { Clerk_Organization_Id__c: chosen };
    const create = newContacts.get(userId);
    if (create) {
      create.record.Account = account;
      create.setsAccountId = true;
    } else {
      accountIds.push({ userId, contactId: contacts.get(userId)!.Id, organizationId: chosen });
    }
  }
  return { writes, accountIds };
}

/** Backfill page activities over the worker's Salesforce session and Clerk client. */
export function backfillActivities(session: SalesforceSession, clerkClient: ClerkClient | undefined) {
  return classified(classifySalesforce, {
    /** One page of Clerk organizations → Accounts (created, or updated where Salesforce is older). */
    async backfillOrganizationsPage(input: BackfillPageRequest): Promise<BackfillPageResult> {
      const clerk = requireClerk(clerkClient);
      const checkpoint = checkpointFor(input.cursor);
      if (checkpoint.result) return checkpoint.result;
      const { offset } = input.cursor;
      heartbeat(checkpoint);
      const page = await fromClerk(() =>
        clerk.organizations.getOrganizationList({
          limit: input.pageSize,
          offset,
          orderBy: '+created_at', // new organizations land after the cursor, never shift it
        }),
      );
      const { counts, result, records: orgs } = openPage('organizations', ClerkOrganization, page, input);
      if (orgs.length > 0) {
        const sf = await engineFor(session, () => checkpoint);
        const links = orgs.flatMap((o) => linkedAccountId(o.private_metadata) ?? []);
        const stored = await read(
          sf,
          accountQueries(
            orgs.map((o) => o.id),
            links,
          ),
        );
        const accounts = [...(stored.accounts ?? []), ...(stored.linked ?? [])];
        const writes = accountWrites(
          orgs,
          byField(accounts, 'Clerk_Organization_Id__c'),
          byField(accounts, 'Id'),
          counts,
        );
        await apply(sf, { writes, accountIds: [], dryRun: input.dryRun }, result);
      }
      heartbeat({ cursor: input.cursor, result });
      return result;
    },

    /** One page of Clerk users → Contacts (created, or updated where Salesforce is older); no welcome email. */
    async backfillUsersPage(input: BackfillPageRequest): Promise<BackfillPageResult> {
      const clerk = requireClerk(clerkClient);
      const checkpoint = checkpointFor(input.cursor);
      if (checkpoint.result) return checkpoint.result;
      const { offset } = input.cursor;
      heartbeat(checkpoint);
      const page = await fromClerk(() =>
        clerk.users.getUserList({ limit: input.pageSize, offset, orderBy: '+created_at' }),
      );
      const { counts, result, records: users } = openPage('users', ClerkUser, page, input);
      if (users.length > 0) {
        const sf = await engineFor(session, () => checkpoint);
        const { contacts = [] } = await read(sf, {
          contacts: {
            values: users.map((u) => u.id),
            build: (list) =>
              `SELECT Id, Clerk_User_Id__c, Clerk_Status__c, Clerk_Updated_At__c FROM Contact WHERE Clerk_User_Id__c IN ${list}`,
          },
        });
        const stored = byField(contacts, 'Clerk_User_Id__c');
        const writes: Write[] = [];
        for (const user of users) {
          const fields = contactFromUser(user);
          const { Clerk_User_Id__c: _id, ...changes } = fields;
          const target = { kind: 'users', clerkId: user.id, type: 'Contact' } as const;
          const write = versionedWrite(target, stored.get(user.id), user.updated_at, changes, counts, () => ({
            ...target,
            op: 'create',
            record: { ...fields, Clerk_Status__c: 'Active', Clerk_Updated_At__c: user.updated_at },
          }));
          if (write) writes.push(write);
        }
        await apply(sf, { writes, accountIds: [], dryRun: input.dryRun }, result);
      }
      heartbeat({ cursor: input.cursor, result });
      return result;
    },

    /**
     * Up to `pageSize` memberships, walking Clerk's organizations oldest first (several small ones share a page) →
     * Clerk_Membership__c, with the Contact or Account created from the membership if it is still missing, and the
     * Contact's empty AccountId set to the Account of the user's oldest membership.
     */
    async backfillMembershipsPage(input: BackfillPageRequest): Promise<BackfillPageResult> {
      const clerk = requireClerk(clerkClient);
      const checkpoint = checkpointFor(input.cursor);
      if (checkpoint.result) return checkpoint.result;
      heartbeat(checkpoint);
      const { organizationIndex, offset } = input.cursor;
      const orgPage = await fromClerk(() =>
        clerk.organizations.getOrganizationList({
          limit: input.pageSize,
          offset: organizationIndex,
          orderBy: '+created_at',
          includeMembersCount: true,
        }),
      );
      const raw: unknown[] = [];
      const lastOrgs = lastPage(organizationIndex, orgPage.data.length, orgPage.totalCount, input.pageSize);
      let next: BackfillCursor | null = lastOrgs
        ? null
        : { phase: 'memberships', organizationIndex: organizationIndex + orgPage.data.length, offset: 0 };
      for (const [i, org] of orgPage.data.entries()) {
        let from = i === 0 ? offset : 0;
        if (org.membersCount === 0) continue;
        const room = input.pageSize - raw.length;
        const page = await fromClerk(() =>
          clerk.organizations.getOrganizationMembershipList({
            organizationId: org.id,
            limit: room,
            offset: from,
            orderBy: '+created_at',
          }),
        );
        heartbeat(checkpoint);
        raw.push(...page.data.map((m) => m.raw));
        from += page.data.length;
        const orgDone = page.data.length < room || from >= page.totalCount;
        if (!orgDone) {
          next = { phase: 'memberships', organizationIndex: organizationIndex + i, offset: from };
          break;
        }
        if (raw.length >= input.pageSize) {
          const after = organizationIndex + i + 1;
          next =
            i + 1 < orgPage.data.length || !lastOrgs
              ? { phase: 'memberships', organizationIndex: after, offset: 0 }
              : null;
          break;
        }
      }
      const counts = emptyCounts();
      const result: BackfillPageResult = {
        counts: { memberships: counts },
        accountIdsSet: 0,
        next,
        total: orgPage.totalCount,
        failures: [],
      };
      const memberships: ClerkMembership[] = [];
      for (const m of raw) {
        counts.seen += 1;
        const parsed = parse(ClerkMembership, m);
        if (parsed) memberships.push(parsed);
        else {
          counts.failed += 1;
          const id = (m as { id?: unknown })?.id;
          result.failures.push({
            kind: 'memberships',
            id: typeof id === 'string' ? id : '?',
            code: 'INVALID_CLERK_DATA',
          });
        }
      }
      if (memberships.length > 0) {
        const sf = await engineFor(session, () => checkpoint);
        const lookup = async (userId: string) => {
          checkpoint.lookups ??= {};
          const orgs = (checkpoint.lookups[userId] ??= await organizationsOf(clerk, userId));
          heartbeat(checkpoint); // a retry after a timeout resumes the look-ups where this attempt was
          return orgs;
        };
        const plan = await planMemberships(sf, memberships, lookup, result, input.dryRun);
        await apply(sf, { ...plan, dryRun: input.dryRun }, result);
      }
      heartbeat({ cursor: input.cursor, result });
      return result;
    },
  });
}

/** The backfill activities' interface, for `proxyActivities`. */
export type BackfillActivities = ReturnType<typeof backfillActivities>;
