import type { ContactFields, MembershipSync } from '../../shared/mapping';
import type { CompositePlan } from './engine';
import { firstRecord, soql, type CompositeResult } from './engine';

// The Composite plans of the single-event writes (SPEC.md's Salesforce outcomes): conditional subrequests that make
// one API call apply an event whatever Salesforce holds — create if absent, update only if what is stored is older,
// never revive what a deletion removed.

/** How a guarded upsert ended: `unchanged` means Salesforce already held this version or a newer one. */
export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

type Versioned = Record<string, unknown>;

/** Create if absent; else update only when the stored version is older (three subrequests). */
export function guardedUpsert(
  plan: CompositePlan,
  ref: string,
  type: string,
  external: { field: string; value: string },
  fields: Versioned,
  version: number | null,
  onCreate: Versioned,
): void {
  plan.create(`${ref}Create`, type, {
    ...fields,
    ...onCreate,
    [external.field]: external.value,
    Clerk_Updated_At__c: version,
  });
  if (version === null) return;
  plan.query(
    `${ref}Older`,
    `SELECT Id FROM ${type} WHERE ${external.field} = ${soql(external.value)} AND (Clerk_Updated_At__c = null OR Clerk_Updated_At__c < ${version})`,
  );
  const { [external.field]: _key, ...changes } = fields;
  plan.update(`${ref}Update`, type, firstRecord(`${ref}Older`), { ...changes, Clerk_Updated_At__c: version });
}

/** A Clerk user's Contact, guarded by the user's `updated_at` (subrequests `contactCreate/Older/Update`). */
export function addContact(plan: CompositePlan, contact: ContactFields, version: number): void {
  guardedUpsert(
    plan,
    'contact',
    'Contact',
    { field: 'Clerk_User_Id__c', value: contact.Clerk_User_Id__c },
    { ...contact },
    version,
    { Clerk_Status__c: 'Active' },
  );
}

/** How a `guardedUpsert` ended, from its three subrequests. */
export function outcomeOf(result: { succeeded(ref: string): boolean }, ref: string): UpsertOutcome {
  if (result.succeeded(`${ref}Create`)) return 'created';
  return result.succeeded(`${ref}Update`) ? 'updated' : 'unchanged';
}

export const activeContactQuery = (userId: string) =>
  `SELECT Id FROM Contact WHERE Clerk_User_Id__c = ${soql(userId)} AND Clerk_Status__c != 'Deleted'`;

/** The membership and its Account, both only while the Contact (`contactActive`) and the Account are not deleted. */
export function addMembership(plan: CompositePlan, i: number, sync: MembershipSync): void {
  const { membership: m, account } = sync;
  if (sync.linkAccountId) addLink(plan, `link${i}`, sync.linkAccountId, m.organizationId);
  plan.create(`account${i}Create`, 'Account', {
    ...account,
    Clerk_Status__c: 'Active',
    Clerk_Updated_At__c: sync.accountVersion,
  });
  plan.query(
    `account${i}Active`,
    `SELECT Id FROM Account WHERE Clerk_Organization_Id__c = ${soql(m.organizationId)} AND Clerk_Status__c != 'Deleted'`,
  );
  guardedUpsert(
    plan,
    `membership${i}`,
    'Clerk_Membership__c',
    { field: 'Clerk_Membership_Id__c', value: m.Clerk_Membership_Id__c },
    { Role__c: m.Role__c },
    sync.version,
    { Contact__c: firstRecord('contactActive'), Account__c: firstRecord(`account${i}Active`) },
  );
}

/** Sets the Contact's AccountId to the first membership's Account when it has none (two subrequests). */
export function addPrimaryAccount(plan: CompositePlan, userId: string): void {
  plan.query(
    'contactWithoutAccount',
    `SELECT Id FROM Contact WHERE Clerk_User_Id__c = ${soql(userId)} AND AccountId = null AND Clerk_Status__c != 'Deleted'`,
  );
  plan.update('contactAccount', 'Contact', firstRecord('contactWithoutAccount'), {
    AccountId: firstRecord('account0Active'),
  });
}

/**
 * The Contact's move off an organization's Account (six subrequests): three conditional writes, last one wins —
 * none; else the oldest other live membership's Account; else (the user rejoined the organization under a new
 * membership) that same Account again. Only a Contact whose AccountId is that organization's Account moves.
 */
export function addAccountMove(
  plan: CompositePlan,
  input: { userId: string; organizationId: string; membershipId: string },
): void {
  const user = soql(input.userId);
  const org = soql(input.organizationId);
  const remaining =
    `SELECT Account__c FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = ${user} ` +
    `AND Clerk_Membership_Id__c != ${soql(input.membershipId)} AND Account__r.Clerk_Status__c != 'Deleted'`;
  plan
    .query(
      'pointing',
      `SELECT Id, AccountId FROM Contact WHERE Clerk_User_Id__c = ${user} AND Account.Clerk_Organization_Id__c = ${org}`,
    )
    .query(
      'other',
      `${remaining} AND Account__r.Clerk_Organization_Id__c != ${org} ORDER BY CreatedDate ASC LIMIT 1`,
    )
    .query('same', `${remaining} AND Account__r.Clerk_Organization_Id__c = ${org} LIMIT 1`)
    .update('clear', 'Contact', firstRecord('pointing'), { AccountId: null })
    .update('toOther', 'Contact', firstRecord('pointing'), { AccountId: firstRecord('other', 'Account__c') })
    .update('toSame', 'Contact', firstRecord('pointing'), { AccountId: firstRecord('same', 'Account__c') });
}

export const MOVE_WRITES = ['clear', 'toOther', 'toSame'] as const;
export const MOVE_REFS = ['pointing', 'other', 'same', ...MOVE_WRITES] as const;

/** What `addAccountMove` found: the Contact that pointed at the organization, and where it goes. */
export function accountMoveOf(res: CompositeResult): AccountMove | null {
  const [pointing] = res.records<{ Id: string; AccountId: string }>('pointing');
  if (!pointing) return null;
  const [same] = res.records<{ Account__c: string }>('same');
  const [other] = res.records<{ Account__c: string }>('other');
  return {
    contactId: pointing.Id,
    previousAccountId: pointing.AccountId,
    accountId: same?.Account__c ?? other?.Account__c ?? null,
  };
}

/** A Contact's AccountId change, kept so the saga can put it back. */
export interface AccountMove {
  contactId: string;
  previousAccountId: string;
  accountId: string | null;
}

/** What `deleteMembershipAndMoveContact` changed, for the saga's undo. */
export interface MembershipRemoval {
  /** This delivery deleted the membership (in this attempt or an earlier one); false when it was already gone. */
  removed: boolean;
  /** The Contact's AccountId moved off the organization's Account; null when it pointed elsewhere. */
  moved: AccountMove | null;
}

/** The `details[0]` of a removal that was rejected after part of it applied: the saga undoes `applied`. */
export interface PartialRemoval {
  step: 'remove membership' | 'move the Contact to another Account';
  applied: MembershipRemoval;
}

/**
 * Links an existing Account (made before its organization, `POST /api/organizations`) to the organization, unless it
 * is linked to another one.
 */
export function addLink(plan: CompositePlan, ref: string, accountId: string, organizationId: string): void {
  plan.query(
    `${ref}Linkable`,
    `SELECT Id FROM Account WHERE Id = ${soql(accountId)} AND (Clerk_Organization_Id__c = null OR Clerk_Organization_Id__c = ${soql(organizationId)})`,
  );
  plan.update(ref, 'Account', firstRecord(`${ref}Linkable`), {
    Clerk_Organization_Id__c: organizationId,
    Clerk_Status__c: 'Active',
  });
}
