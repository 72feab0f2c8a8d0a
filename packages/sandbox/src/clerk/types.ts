/** Clerk's wire JSON, as the Backend API answers and as webhooks carry it (timestamps in epoch ms). */

export type Metadata = Record<string, unknown>;

/** `verification` of an email address or phone number. */
export interface VerificationJSON {
  object: string;
  status: 'verified' | 'unverified';
  strategy: string;
  attempts: number | null;
  expire_at: number | null;
}

/** One entry of `UserJSON.email_addresses`. */
export interface EmailAddressJSON {
  id: string;
  object: 'email_address';
  email_address: string;
  reserved: boolean;
  verification: VerificationJSON | null;
  linked_to: { id: string; type: string }[];
  matches_sso_connection: boolean;
  created_at: number;
  updated_at: number;
}

/** One entry of `UserJSON.phone_numbers`. */
export interface PhoneNumberJSON {
  id: string;
  object: 'phone_number';
  phone_number: string;
  reserved_for_second_factor: boolean;
  default_second_factor: boolean;
  reserved: boolean;
  verification: VerificationJSON | null;
  linked_to: { id: string; type: string }[];
  backup_codes: string[] | null;
  created_at: number;
  updated_at: number;
}

/** Clerk's `UserJSON` (Backend API `GET /v1/users/{id}` and `user.created`/`user.updated` data). */
export interface UserJSON {
  id: string;
  object: 'user';
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  image_url: string;
  has_image: boolean;
  primary_email_address_id: string | null;
  primary_phone_number_id: string | null;
  primary_web3_wallet_id: string | null;
  password_enabled: boolean;
  two_factor_enabled: boolean;
  totp_enabled: boolean;
  backup_code_enabled: boolean;
  email_addresses: EmailAddressJSON[];
  phone_numbers: PhoneNumberJSON[];
  web3_wallets: unknown[];
  passkeys: unknown[];
  external_accounts: unknown[];
  saml_accounts: unknown[];
  enterprise_accounts: unknown[];
  password_last_updated_at: number | null;
  public_metadata: Metadata;
  private_metadata: Metadata;
  unsafe_metadata: Metadata;
  external_id: string | null;
  last_sign_in_at: number | null;
  banned: boolean;
  locked: boolean;
  deprovisioned: boolean;
  lockout_expires_in_seconds: number | null;
  verification_attempts_remaining: number | null;
  created_at: number;
  updated_at: number;
  last_active_at: number | null;
  create_organization_enabled: boolean;
  create_organizations_limit: number | null;
  delete_self_enabled: boolean;
  legal_accepted_at: number | null;
  locale: string | null;
}

/** Clerk's `OrganizationJSON`. */
export interface OrganizationJSON {
  id: string;
  object: 'organization';
  name: string;
  slug: string;
  image_url: string;
  has_image: boolean;
  members_count?: number;
  max_allowed_memberships: number;
  admin_delete_enabled: boolean;
  public_metadata: Metadata;
  private_metadata: Metadata;
  created_by?: string;
  created_at: number;
  updated_at: number;
}

/** `public_user_data` inside a membership: what Clerk shows of the member. */
export interface PublicUserDataJSON {
  user_id: string;
  first_name: string | null;
  last_name: string | null;
  /** Primary email address, else primary phone number, else username. */
  identifier: string;
  image_url: string;
  profile_image_url: string;
  has_image: boolean;
  username: string | null;
}

/** Clerk's `OrganizationMembershipJSON`, with the organization and the member embedded. */
export interface MembershipJSON {
  id: string;
  object: 'organization_membership';
  role: string;
  role_name: string;
  permissions: string[];
  public_metadata: Metadata;
  private_metadata: Metadata;
  organization: OrganizationJSON;
  public_user_data: PublicUserDataJSON;
  created_at: number;
  updated_at: number;
}

/** `user.deleted` data: nothing but the id (and `external_id` when the user had one). */
export interface UserDeletedJSON {
  deleted: true;
  id: string;
  object: 'user';
  external_id?: string;
}

/** `organization.deleted` data: the slug but no name. */
export interface OrganizationDeletedJSON {
  deleted: true;
  id: string;
  object: 'organization';
  slug: string;
}

/** The Clerk webhook event types the sandbox emits, with their data. */
export type ClerkEvent =
  | ClerkEventOf<'user.created' | 'user.updated', UserJSON>
  | ClerkEventOf<'user.deleted', UserDeletedJSON>
  | ClerkEventOf<'organization.created' | 'organization.updated', OrganizationJSON>
  | ClerkEventOf<'organization.deleted', OrganizationDeletedJSON>
  | ClerkEventOf<
      'organizationMembership.created' | 'organizationMembership.updated' | 'organizationMembership.deleted',
      MembershipJSON
    >;

/** Clerk's webhook envelope. */
export interface ClerkEventOf<T extends string, D> {
  data: D;
  object: 'event';
  type: T;
  /** Epoch ms. */
  timestamp: number;
  instance_id: string;
  event_attributes: { http_request: { client_ip: string; user_agent: string } };
}

/** The sandbox Clerk data file (fixtures/clerk-seed.json): partial Clerk JSON, the rest filled in on load. */
export interface ClerkSeed {
  users?: SeedUser[];
  organizations?: SeedOrganization[];
  memberships?: SeedMembership[];
}

/** A seeded user: Clerk's field names; omitted fields get Clerk's defaults. */
export interface SeedUser {
  id: string;
  first_name?: string | null;
  last_name?: string | null;
  username?: string | null;
  external_id?: string | null;
  email_addresses?: { id: string; email_address: string }[];
  primary_email_address_id?: string | null;
  phone_numbers?: { id: string; phone_number: string }[];
  primary_phone_number_id?: string | null;
  public_metadata?: Metadata;
  private_metadata?: Metadata;
  created_at?: number;
  updated_at?: number;
}

/** A seeded organization. */
export interface SeedOrganization {
  id: string;
  name: string;
  slug: string;
  created_by?: string;
  max_allowed_memberships?: number;
  public_metadata?: Metadata;
  private_metadata?: Metadata;
  created_at?: number;
  updated_at?: number;
}

/** A seeded membership, by ids. */
export interface SeedMembership {
  id: string;
  organization_id: string;
  user_id: string;
  role: string;
  created_at?: number;
  updated_at?: number;
}
