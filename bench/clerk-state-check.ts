import type { Sandbox } from '@clerk-sync/sandbox';
import type { ScriptedUser } from './inline-workload';
import { mostWithin } from './stats';

// After a fault run: what Salesforce, Resend and Slack hold for each scripted user, compared with the sandbox Clerk's
// final state field by field (SPEC.md's "Event → effect"), written from SPEC rather than from the product's mapping so
// that it checks any implementation the same way: the Contact's fields, status and AccountId, each membership (id,
// role, Contact, Account) and each Account the user's events named; one welcome email per user with an email; a
// sign-up notice per user and no notice line twice.

/** What the check found. */
export interface StateCheck {
  /** One line per difference: `user_…: Contact.LastName "x" ≠ "y"`, `user_…: membership orgmem_… missing`. */
  wrong: string[];
  duplicateEmails: number;
  missingEmails: number;
  /**
   * Slack lines posted more than once (each extra copy counts): every line of the scripted scenarios names its user's
   * id or that user's own organization, so a repeated line is a repeated notice.
   */
  duplicateNotices: number;
  /** Users without a sign-up notice naming them. */
  missingNotices: number;
  /** The most Slack messages within any 10 s (Slack allows about one a second; the product's target is ≤ 12). */
  maxSlackMessagesPer10s: number;
}

type SfRecord = Record<string, unknown>;

/** Clerk's record, or undefined once it is deleted there. */
function orUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function groupBy(records: SfRecord[], field: string): Map<string, SfRecord[]> {
  const groups = new Map<string, SfRecord[]>();
  for (const r of records) {
    const key = String(r[field]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return groups;
}

/** Compares every scripted user's records with Clerk's final state. */
export function checkAgainstClerk(sandbox: Sandbox, users: readonly ScriptedUser[]): StateCheck {
  const clerk = sandbox.services.clerk.store;
  const salesforce = sandbox.services.salesforce;
  const accounts = salesforce.records('Account');
  const contactsByUser = groupBy(salesforce.records('Contact'), 'Clerk_User_Id__c');
  const accountsByOrg = groupBy(accounts, 'Clerk_Organization_Id__c');
  const orgOfAccount = new Map(accounts.map((a) => [String(a.Id), String(a.Clerk_Organization_Id__c)]));
  const membershipsByContact = groupBy(salesforce.records('Clerk_Membership__c'), 'Contact__c');
  const emails = sandbox.services.resend.emails();
  const messages = sandbox.services.slack.messages();
  const lines = messages.flatMap((m) => (m.text ?? '').split('\n'));

  const wrong: string[] = [];
  const compare = (who: string, record: string, have: SfRecord, want: SfRecord) => {
    for (const [field, value] of Object.entries(want)) {
      const actual = have[field] ?? null;
      if (actual !== value)
        wrong.push(`${who}: ${record}.${field} ${JSON.stringify(actual)} ≠ ${JSON.stringify(value)}`);
    }
  };
  let duplicateEmails = 0;
  let missingEmails = 0;
  let missingNotices = 0;

  for (const { userId, organizationIds } of users) {
    const user = orUndefined(() => clerk.getUser(userId));
    const primary =
      user?.email_addresses.find((e) => e.id === user.primary_email_address_id)?.email_address ?? null;
    const contacts = contactsByUser.get(userId) ?? [];
    const contact = contacts[0];
    if (contacts.length !== 1) wrong.push(`${userId}: ${contacts.length} Contacts`);
    const memberships = user ? clerk.listUserMemberships(userId, { limit: 500, offset: 0 }).data : [];
    if (contact) {
      compare(
        userId,
        'Contact',
        contact,
        user
          ? {
              FirstName: user.first_name || null,
              LastName: user.last_name || user.username || primary?.split('@')[0] || 'Unknown',
              Email: primary,
              Phone:
                user.phone_numbers.find((p) => p.id === user.primary_phone_number_id)?.phone_number ?? null,
              Clerk_Status__c: 'Active',
            }
          : { Clerk_Status__c: 'Deleted', AccountId: null },
      );
      const want = memberships.map((m) => `${m.id} ${m.role} ${m.organization.id}`);
      const have = (membershipsByContact.get(String(contact.Id)) ?? []).map(
        (m) =>
          `${String(m.Clerk_Membership_Id__c)} ${String(m.Role__c)} ${orgOfAccount.get(String(m.Account__c))}`,
      );
      for (const m of want.filter((x) => !have.includes(x))) wrong.push(`${userId}: membership ${m} missing`);
      for (const m of have.filter((x) => !want.includes(x))) wrong.push(`${userId}: membership ${m} extra`);
      const accountId = contact.AccountId as string | null;
      const primaryOrg = accountId ? orgOfAccount.get(accountId) : null;
      const orgs = memberships.map((m) => m.organization.id);
      if (orgs.length === 0 ? primaryOrg !== null : !orgs.includes(primaryOrg ?? ''))
        wrong.push(
          `${userId}: Contact.AccountId → ${primaryOrg ?? 'none'}, Clerk memberships in ${orgs.join(',') || 'none'}`,
        );
    }
    for (const organizationId of organizationIds) {
      const org = orUndefined(() => clerk.getOrganization(organizationId));
      const found = accountsByOrg.get(organizationId) ?? [];
      if (found.length !== 1) wrong.push(`${userId}: ${found.length} Accounts for ${organizationId}`);
      if (found[0])
        compare(
          userId,
          `Account ${organizationId}`,
          found[0],
          org
            ? { Name: org.name, Clerk_Slug__c: org.slug ?? null, Clerk_Status__c: 'Active' }
            : { Clerk_Status__c: 'Deleted' },
        );
    }
    if (primary) {
      const sent = emails.filter((e) => e.to.includes(primary)).length;
      if (sent > 1) duplicateEmails += sent - 1;
      if (sent === 0) missingEmails += 1;
    }
    if (!lines.some((line) => line.includes(`(${userId})`))) missingNotices += 1;
  }

  const seen = new Set<string>();
  let duplicateNotices = 0;
  for (const line of lines) {
    if (seen.has(line)) duplicateNotices += 1;
    seen.add(line);
  }
  return {
    wrong,
    duplicateEmails,
    missingEmails,
    duplicateNotices,
    missingNotices,
    maxSlackMessagesPer10s: mostWithin(
      messages.map((m) => m.at),
      10_000,
    ),
  };
}
