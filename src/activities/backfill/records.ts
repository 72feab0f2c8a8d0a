import type { BackfillCounts } from '../../shared/backfill-counts';
import type { ClerkOrganization } from '../../shared/clerk';
import { accountFromOrganization, linkedAccountId } from '../../shared/mapping';
import type { BackfillKind } from './types';

// The pure part of a backfill page: what to write for each record, from Clerk's version and what Salesforce holds.

export type SObjectType = 'Account' | 'Contact' | 'Clerk_Membership__c';

/** One record to write: a create (with the relationship-by-External-ID lookups it needs) or an update by Id. */
export interface Write {
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
export interface AccountIdWrite {
  userId: string;
  contactId: string;
  organizationId: string;
}

/** What Salesforce holds for one record: enough to decide created / updated / unchanged / skipped. */
export interface Stored {
  Id: string;
  Clerk_Status__c?: string | null;
  Clerk_Updated_At__c?: number | string | null;
  AccountId?: string | null;
  Clerk_Organization_Id__c?: string | null;
}

/** Older than Clerk, or written without a version (a Contact a membership event created). */
export const isOlder = (stored: Stored, version: number) =>
  stored.Clerk_Updated_At__c === null ||
  stored.Clerk_Updated_At__c === undefined ||
  Number(stored.Clerk_Updated_At__c) < version;

export const isDeleted = (stored: Stored | undefined) => stored?.Clerk_Status__c === 'Deleted';

/**
 * The write that brings one record up to Clerk's `version`: none when Salesforce holds it as Deleted or as new
 * (counted), an update of the stored record by Id (`changes`, never its status), or the create `create()` gives.
 */
export function versionedWrite(
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

/** Indexes stored records by one of their fields. */
export function byField(records: Record<string, unknown>[], field: string): Map<string, Stored> {
  const map = new Map<string, Stored>();
  for (const r of records) if (typeof r[field] === 'string') map.set(r[field], r as unknown as Stored);
  return map;
}

/** Fields of an Account, its External ID and status on create. */
export function accountWrites(
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
