import type { ClerkMembership, ClerkOrganization, ClerkUser } from './clerk';

// Clerk JSON → Salesforce fields (SPEC.md "Event → effect"). Pure, so workflows map at their edge and
// activity arguments in the history read as the Salesforce change they make.

/** Salesforce text limits (Contact.FirstName 40, LastName 80, Email 80, Phone 40; Account.Name 255). */
const LIMITS = { FirstName: 40, LastName: 80, Email: 80, Phone: 40, Name: 255, Text: 255 } as const;

const clip = (value: string | null | undefined, max: number): string | null => {
  const v = value?.trim();
  return v ? [...v].slice(0, max).join('') : null;
};

/** An address longer than Salesforce can store is left out rather than cut into a wrong one. */
const email = (value: string | null | undefined): string | null => {
  const v = value?.trim();
  return v && v.length <= LIMITS.Email && v.includes('@') ? v : null;
};

/** A Contact as clerk-sync writes it. */
export interface ContactFields {
  Clerk_User_Id__c: string;
  FirstName: string | null;
  LastName: string;
  Email: string | null;
  Phone: string | null;
}

/** An Account as clerk-sync writes it. */
export interface AccountFields {
  Clerk_Organization_Id__c: string;
  Name: string;
  Clerk_Slug__c: string | null;
}

/** A membership with the Clerk ids of both ends; the activity resolves them to Salesforce lookups. */
export interface MembershipFields {
  Clerk_Membership_Id__c: string;
  Role__c: string;
  userId: string;
  organizationId: string;
}

/** Salesforce requires a LastName: the last name, else the username, else the email's local part, else `Unknown`. */
export function lastNameOf(
  u: { last_name?: string | null; username?: string | null },
  address: string | null,
): string {
  return (
    clip(u.last_name, LIMITS.LastName) ??
    clip(u.username, LIMITS.LastName) ??
    clip(address?.split('@')[0], LIMITS.LastName) ??
    'Unknown'
  );
}

/** The address whose id is `primary_email_address_id` (not necessarily the first one), or null. */
export function primaryEmail(user: ClerkUser): string | null {
  const match = user.email_addresses.find((e) => e.id === user.primary_email_address_id);
  return match ? email(match.email_address) : null;
}

/** The number whose id is `primary_phone_number_id`, or null. */
export function primaryPhone(user: ClerkUser): string | null {
  const match = user.phone_numbers.find((p) => p.id === user.primary_phone_number_id);
  return clip(match?.phone_number, LIMITS.Phone);
}

/** `user.created` / `user.updated` → Contact. */
export function contactFromUser(user: ClerkUser): ContactFields {
  const address = primaryEmail(user);
  return {
    Clerk_User_Id__c: user.id,
    FirstName: clip(user.first_name, LIMITS.FirstName),
    LastName: lastNameOf(user, address),
    Email: address,
    Phone: primaryPhone(user),
  };
}

/** A membership's `public_user_data` → the Contact to create when the user is not in Salesforce yet. */
export function contactFromMembership(m: ClerkMembership): ContactFields {
  const u = m.public_user_data;
  // `identifier` is the primary email, or a phone number or username when there is none.
  const address = email(u.identifier);
  return {
    Clerk_User_Id__c: u.user_id,
    FirstName: clip(u.first_name, LIMITS.FirstName),
    LastName: lastNameOf(u, address),
    Email: address,
    Phone: null,
  };
}

/** `organization.*` (or a membership's embedded organization) → Account. */
export function accountFromOrganization(org: ClerkOrganization): AccountFields {
  return {
    Clerk_Organization_Id__c: org.id,
    Name: clip(org.name, LIMITS.Name) ?? org.id,
    Clerk_Slug__c: clip(org.slug, LIMITS.Text),
  };
}

/** `organizationMembership.*` → Clerk_Membership__c. */
export function membershipFrom(m: ClerkMembership): MembershipFields {
  return {
    Clerk_Membership_Id__c: m.id,
    Role__c: clip(m.role, LIMITS.Text) ?? m.role,
    userId: m.public_user_data.user_id,
    organizationId: m.organization.id,
  };
}

/** A membership with everything needed to create both ends if they are missing. */
export interface MembershipSync {
  membership: MembershipFields;
  /** Clerk's `updated_at` of the membership: a stored newer version wins. */
  version: number;
  account: AccountFields;
  accountVersion: number;
  /** The existing Account the organization was created for (`POST /api/organizations`), if any. */
  linkAccountId?: string;
}

/** A Salesforce Account id (15 or 18 characters, key prefix 001). */
export const ACCOUNT_ID = /^001[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/;

/** The Account an organization was created for, from its private metadata (`salesforceAccountId`); else undefined. */
export function linkedAccountId(
  privateMetadata: Record<string, unknown> | null | undefined,
): string | undefined {
  const id = privateMetadata?.salesforceAccountId;
  return typeof id === 'string' && ACCOUNT_ID.test(id) ? id : undefined;
}

/** A Clerk membership → what `onboardContact`/`syncMemberships`/`upsertMembership` apply. */
export function membershipSyncFrom(m: ClerkMembership): MembershipSync {
  return {
    membership: membershipFrom(m),
    version: m.updated_at,
    account: accountFromOrganization(m.organization),
    accountVersion: m.organization.updated_at,
    linkAccountId: linkedAccountId(m.organization.private_metadata),
  };
}
