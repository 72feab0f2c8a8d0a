import { emptyCounts } from '../../shared/backfill-counts';
import { classifySalesforce, SalesforceError } from '../errors';
import {
  CompositePlan,
  firstRecord,
  SALESFORCE_LIMITS,
  saveCode,
  soql,
  type SalesforceEngine,
  type SaveResult,
} from '../salesforce/engine';
import type { AccountIdWrite, SObjectType, Write } from './records';
import type { BackfillKind, BackfillPageResult } from './types';

// A backfill page's Salesforce side, through the engine: one read of what is stored, then the writes.

/** A read over lists of values: the query `build` makes of a SOQL list, per list. */
export type ListQuery = { values: Iterable<string>; build: (list: string) => string };

/** Runs reads as one Composite call where they fit (each list cut to Salesforce's URL limit; every page read). */
export async function read(
  sf: SalesforceEngine,
  queries: Record<string, ListQuery | undefined>,
): Promise<Record<string, Record<string, unknown>[]>> {
  const plan = new CompositePlan();
  const refs = Object.entries(queries).filter((e): e is [string, ListQuery] => e[1] !== undefined);
  for (const [ref, q] of refs) plan.queryIn(ref, q.values, q.build);
  const res = await sf.send(plan);
  return Object.fromEntries(refs.map(([ref]) => [ref, res.records(ref)]));
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
      read.push(() => result.outcomes(ref, indexes.length).forEach((r, k) => (outcomes[indexes[k]!] = r)));
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
    read.push(() => result.outcomes(ref, slice.length).forEach((r, k) => (accountIdOutcomes[c + k] = r)));
  }
  if (plan.subrequests.length === 0) return { outcomes, accountIdOutcomes };
  const result = await sf.send(plan, { check: false });
  const guardedOutcome = (ref: string): SaveResult => {
    if (result.succeeded(ref)) return { success: true };
    const failure = result.failure([`${ref}Guard`, ref]);
    if (failure)
      return { success: false, errors: [{ statusCode: failure.errorCode, message: failure.message }] };
    return { success: false, errors: [{ statusCode: NEWER }] };
  };
  read.forEach((r) => r());
  return { outcomes, accountIdOutcomes };
}

/**
 * Applies a page's plan (or, in a dry run, only counts it). A record that Salesforce rejects for good is counted as
 * failed and reported; a transient rejection (a lock, the API limit) fails the page, which is retried as a whole.
 */
export async function apply(
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
    const code = saveCode(r);
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
    else if (saveCode(r) === NEWER)
      return; // set in between (a membership event): it stands
    else result.failures.push({ kind: 'users', id: a.userId, code: `AccountId ${rejected(r)}` });
  });
}

const ACCOUNT_FIELDS =
  'SELECT Id, Clerk_Organization_Id__c, Clerk_Status__c, Clerk_Updated_At__c FROM Account';

/** The Accounts of these organizations, and the Accounts organizations were created for (`linkIds`). */
export const accountQueries = (orgIds: Iterable<string>, linkIds: string[]): Record<string, ListQuery> => ({
  accounts: {
    values: orgIds,
    build: (list) => `${ACCOUNT_FIELDS} WHERE Clerk_Organization_Id__c IN ${list}`,
  },
  linked: { values: linkIds, build: (list) => `${ACCOUNT_FIELDS} WHERE Id IN ${list}` },
});
