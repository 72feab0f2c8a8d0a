import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { classifySalesforce, SalesforceError } from '../errors';
import {
  CompositePlan,
  engineFor,
  type SalesforceEngine,
  type SalesforceSession,
  firstRecord,
  GONE,
  SALESFORCE_LIMITS,
  saveCode,
  soql,
  type CompositeResult,
  type SaveResult,
} from './engine';
// The Salesforce work whose size has no bound: an organization's members, a user's organizations. Each activity
// works in rounds that fit one or two Composite calls of sObject Collections (up to 5,000 records a call) and
// heartbeats after every call. A round's writes are idempotent and remove what they did from the next round's
// query (a deleted membership, a Contact moved off the Account), so an attempt after a crash resumes where the
// last one was, without redoing finished rounds. Records Salesforce rejects for good are collected; the activity
// then fails, non-retryable, naming them: a workflow never ends COMPLETED with records left behind.

/** Records one round reads and writes: Contacts to move and memberships to delete share one Composite call. */
const ROUND = { contacts: 2000, memberships: 3000 } as const;

/** A record left unwritten, by Salesforce Id or Clerk id and code (never field values: they land in history). */
export interface Rejected {
  id: string;
  code: string;
}

/** The counts an attempt carries over from the one before it (heartbeat details). */
function carriedOver<T extends object>(initial: T): T {
  const details = activityInfo().heartbeatDetails as T | undefined;
  return details && typeof details === 'object' ? { ...initial, ...details } : initial;
}

/** A per-record failure: transient ones fail the attempt (the retry resumes); others are collected. */
export function recordFailure(rejected: Rejected[], id: string, r: SaveResult | undefined): void {
  const code = saveCode(r);
  const failure = classifySalesforce(new SalesforceError(code, r?.errors?.[0]?.message ?? 'failed'));
  if (!failure.nonRetryable) throw failure;
  rejected.push({ id, code });
}

/** Fails the activity for good, saying what was not written and why. */
export function incomplete(what: string, rejected: Rejected[]): ApplicationFailure {
  const byCode = new Map<string, string[]>();
  for (const r of rejected) byCode.set(r.code, [...(byCode.get(r.code) ?? []), r.id]);
  const reasons = [...byCode]
    .map(
      ([code, ids]) =>
        `${code} on ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''}`,
    )
    .join('; ');
  return ApplicationFailure.create({
    type: 'SalesforceIncomplete',
    message: `${what}: ${rejected.length} record(s) not written: ${reasons}`,
    nonRetryable: true,
  });
}

/** Adds `updateMany` / `deleteMany` subrequests for any number of records, 200 a subrequest. */
export function inCollections<T>(items: readonly T[], add: (slice: T[], n: number) => void): void {
  for (let i = 0, n = 0; i < items.length; i += SALESFORCE_LIMITS.collection, n += 1)
    add(items.slice(i, i + SALESFORCE_LIMITS.collection), n);
}

/** The per-record results of the collections `inCollections` added under `prefix`, in the order of `items`. */
export function savesOf(res: CompositeResult, prefix: string, count: number): SaveResult[] {
  const out: SaveResult[] = [];
  for (let i = 0, n = 0; i < count; i += SALESFORCE_LIMITS.collection, n += 1)
    out.push(...res.outcomes(`${prefix}${n}`, Math.min(SALESFORCE_LIMITS.collection, count - i)));
  return out;
}

/** A membership to remove, with the rest of its round: Contacts to move off the Account. */
interface Round {
  contacts: { Id: string }[];
  memberships: { Id: string }[];
}

/**
 * Deletes memberships and moves Contacts (any number), in as few calls as Collections allow. Returns how many of
 * each were applied; rejected records are collected, transient failures thrown (the retry resumes).
 */
async function applyRound(
  sf: SalesforceEngine,
  moves: { Id: string; AccountId: string | null }[],
  deletes: string[],
  rejected: Rejected[],
): Promise<{ moved: number; removed: number }> {
  const plan = new CompositePlan();
  inCollections(moves, (slice, n) => plan.updateMany(`move${n}`, 'Contact', slice));
  inCollections(deletes, (slice, n) => plan.deleteMany(`delete${n}`, slice));
  if (plan.subrequests.length === 0) return { moved: 0, removed: 0 };
  const res = await sf.send(plan, { check: false });
  let moved = 0;
  let removed = 0;
  savesOf(res, 'move', moves.length).forEach((r, i) => {
    if (r?.success) moved += 1;
    else recordFailure(rejected, moves[i]!.Id, r);
  });
  savesOf(res, 'delete', deletes.length).forEach((r, i) => {
    if (r?.success || GONE.has(saveCode(r))) removed += 1;
    else recordFailure(rejected, deletes[i]!, r);
  });
  return { moved, removed };
}

/** Keyset paging by Id: the next `limit` records of `select … where` after `after` (none: from the first). */
const nextById = (select: string, where: string, after: string, limit: number) =>
  `${select} WHERE ${where}${after ? ` AND Id > ${soql(after)}` : ''} ORDER BY Id LIMIT ${limit}`;

/** The activities for work of any size, over the worker's Salesforce session. */
export function bulkActivities(session: SalesforceSession) {
  return {
    /**
     * user.deleted: the Contact kept as Deleted with no Account, then every one of its memberships removed (a user
     * in hundreds of organizations included), 3,000 a round. A deletion is final.
     */
    async markContactDeleted(input: { userId: string }): Promise<{ membershipsRemoved: number }> {
      const done = carriedOver({ membershipsRemoved: 0 });
      const sf = await engineFor(session, () => done);
      const user = soql(input.userId);
      // Marked first, listed after: a membership event racing this one sees the Contact deleted and stops.
      let plan = new CompositePlan()
        .create('tombstone', 'Contact', {
          Clerk_User_Id__c: input.userId,
          LastName: 'Unknown',
          Clerk_Status__c: 'Deleted',
        })
        .query('contact', `SELECT Id FROM Contact WHERE Clerk_User_Id__c = ${user}`)
        .update('mark', 'Contact', firstRecord('contact'), { Clerk_Status__c: 'Deleted', AccountId: null });
      const rejected: Rejected[] = [];
      for (let after = ''; ;) {
        plan.query(
          'memberships',
          nextById(
            'SELECT Id FROM Clerk_Membership__c',
            `Contact__r.Clerk_User_Id__c = ${user}`,
            after,
            ROUND.memberships,
          ),
        );
        const memberships = (await sf.send(plan)).records<{ Id: string }>('memberships');
        const applied = await applyRound(
          sf,
          [],
          memberships.map((m) => m.Id),
          rejected,
        );
        done.membershipsRemoved += applied.removed;
        if (memberships.length < ROUND.memberships) break;
        after = memberships.at(-1)!.Id;
        plan = new CompositePlan();
      }
      if (rejected.length > 0) throw incomplete(`user ${input.userId} deleted`, rejected);
      return done;
    },

    /**
     * organization.deleted: the Account kept as Deleted, then, 2,000 Contacts and 3,000 memberships a round (an
     * organization of any size): each Contact pointing at it moved to its oldest other live membership's Account (or
     * none), and every membership removed.
     */
    async markAccountDeleted(input: { organizationId: string; slug?: string | null }): Promise<{
      membershipsRemoved: number;
      contactsMoved: number;
    }> {
      const done = carriedOver({ membershipsRemoved: 0, contactsMoved: 0 });
      const sf = await engineFor(session, () => done);
      const org = soql(input.organizationId);
      let plan = new CompositePlan()
        .create('tombstone', 'Account', {
          Clerk_Organization_Id__c: input.organizationId,
          Name: input.slug || input.organizationId,
          Clerk_Slug__c: input.slug ?? null,
          Clerk_Status__c: 'Deleted',
        })
        .query('account', `SELECT Id FROM Account WHERE Clerk_Organization_Id__c = ${org}`)
        .update('mark', 'Account', firstRecord('account'), { Clerk_Status__c: 'Deleted' });
      const rejected: Rejected[] = [];
      let contactsAfter: string | null = '';
      let membershipsAfter: string | null = '';
      while (contactsAfter !== null || membershipsAfter !== null) {
        if (contactsAfter !== null)
          plan.query(
            'contacts',
            nextById(
              'SELECT Id FROM Contact',
              `Account.Clerk_Organization_Id__c = ${org}`,
              contactsAfter,
              ROUND.contacts,
            ),
          );
        if (membershipsAfter !== null)
          plan.query(
            'memberships',
            nextById(
              'SELECT Id FROM Clerk_Membership__c',
              `Account__r.Clerk_Organization_Id__c = ${org}`,
              membershipsAfter,
              ROUND.memberships,
            ),
          );
        const res = await sf.send(plan);
        const round: Round = {
          contacts: res.records<{ Id: string }>('contacts'),
          memberships: res.records<{ Id: string }>('memberships'),
        };
        const moves = await movesOffAccount(sf, round.contacts, org);
        const applied = await applyRound(
          sf,
          moves,
          round.memberships.map((m) => m.Id),
          rejected,
        );
        done.contactsMoved += applied.moved;
        done.membershipsRemoved += applied.removed;
        if (contactsAfter !== null)
          contactsAfter = round.contacts.length < ROUND.contacts ? null : round.contacts.at(-1)!.Id;
        if (membershipsAfter !== null)
          membershipsAfter =
            round.memberships.length < ROUND.memberships ? null : round.memberships.at(-1)!.Id;
        plan = new CompositePlan();
      }
      if (rejected.length > 0) throw incomplete(`organization ${input.organizationId} deleted`, rejected);
      return done;
    },
  };
}

/**
 * Where each Contact goes when it leaves the organization's Account: its oldest other live membership's Account, or
 * none. One read for any number of Contacts (their ids in as many `IN` lists as the URL limit needs).
 */
async function movesOffAccount(
  sf: SalesforceEngine,
  contacts: { Id: string }[],
  org: string,
): Promise<{ Id: string; AccountId: string | null }[]> {
  if (contacts.length === 0) return [];
  const others = await sf.queryIn<{ Contact__c: string; Account__c: string }>(
    contacts.map((c) => c.Id),
    (list) =>
      `SELECT Contact__c, Account__c FROM Clerk_Membership__c WHERE Contact__c IN ${list} ` +
      `AND Account__r.Clerk_Organization_Id__c != ${org} AND Account__r.Clerk_Status__c != 'Deleted' ORDER BY CreatedDate ASC`,
  );
  const target = new Map<string, string | null>(contacts.map((c) => [c.Id, null]));
  for (const r of others) if (target.get(r.Contact__c) === null) target.set(r.Contact__c, r.Account__c);
  return [...target].map(([Id, AccountId]) => ({ Id, AccountId }));
}
