import { z } from 'zod';

// The parts of Clerk's webhook payloads the product uses (reference/clerk-svix.md §3). Objects are loose:
// Clerk adds fields over time, and an unknown field must never fail a sync.

const id = z.string().min(1);
const optionalText = z.string().nullish();
/** Clerk timestamps are milliseconds since the epoch. */
const millis = z.number().int().nonnegative();

/** `user.created` / `user.updated` data (UserJSON). */
export const ClerkUser = z.looseObject({
  id,
  first_name: optionalText,
  last_name: optionalText,
  username: optionalText,
  primary_email_address_id: optionalText,
  primary_phone_number_id: optionalText,
  email_addresses: z.array(z.looseObject({ id, email_address: z.string() })).default([]),
  phone_numbers: z.array(z.looseObject({ id, phone_number: z.string() })).default([]),
  updated_at: millis,
});
export type ClerkUser = z.infer<typeof ClerkUser>;

/** `organization.created` / `.updated` data, and the organization embedded in a membership (OrganizationJSON). */
export const ClerkOrganization = z.looseObject({
  id,
  name: z.string().min(1),
  slug: optionalText,
  private_metadata: z.record(z.string(), z.unknown()).nullish(),
  updated_at: millis,
});
export type ClerkOrganization = z.infer<typeof ClerkOrganization>;

/** `organizationMembership.*` data (OrganizationMembershipJSON): the full membership, also on deletion. */
export const ClerkMembership = z.looseObject({
  id,
  role: z.string().min(1),
  organization: ClerkOrganization,
  public_user_data: z.looseObject({
    user_id: id,
    first_name: optionalText,
    last_name: optionalText,
    identifier: optionalText,
    username: optionalText,
  }),
  updated_at: millis,
});
export type ClerkMembership = z.infer<typeof ClerkMembership>;

/** `user.deleted` and `organization.deleted` data: only the id (and the slug for an organization). */
export const ClerkDeleted = z.looseObject({ id, slug: optionalText });
export type ClerkDeleted = z.infer<typeof ClerkDeleted>;
