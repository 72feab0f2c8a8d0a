import { randomBytes } from 'node:crypto';
import type {
  ClerkEvent,
  ClerkSeed,
  EmailAddressJSON,
  MembershipJSON,
  Metadata,
  OrganizationJSON,
  PhoneNumberJSON,
  PublicUserDataJSON,
  UserJSON,
} from './types';

/** A Clerk Backend API error: status, Clerk's code and messages, as the real API answers them. */
export class ClerkSandboxError extends Error {
  override readonly name = 'ClerkSandboxError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly longMessage: string,
    readonly meta?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** `createUser` input, named like @clerk/backend's `users.createUser` params. */
export interface CreateUserParams {
  id?: string;
  emailAddress?: string[];
  /** Which of `emailAddress` is primary (default: the first): Clerk does not keep the primary first. */
  primaryEmailAddress?: string;
  phoneNumber?: string[];
  firstName?: string | null;
  lastName?: string | null;
  username?: string | null;
  externalId?: string | null;
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
  unsafeMetadata?: Metadata;
  createdAt?: number;
}

/** `updateUser` input; `emailAddress`/`phoneNumber` replace the lists (addresses kept keep their ids). */
export type UpdateUserParams = Omit<CreateUserParams, 'id' | 'createdAt'> & { primaryPhoneNumber?: string };

/** `createOrganization` input, named like @clerk/backend's params. */
export interface CreateOrganizationParams {
  id?: string;
  name: string;
  slug?: string;
  createdBy?: string;
  maxAllowedMemberships?: number;
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
  createdAt?: number;
}

/** `updateOrganization` input. */
export type UpdateOrganizationParams = Partial<
  Omit<CreateOrganizationParams, 'id' | 'createdAt' | 'createdBy'>
> & {
  adminDeleteEnabled?: boolean;
};

/** `addMembership` input. */
export interface AddMembershipParams {
  id?: string;
  organizationId: string;
  userId: string;
  /** `org:admin` or `org:member` (default) or a custom `org:…` role. */
  role?: string;
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
  createdAt?: number;
}

/** `updateMembership` input. */
export interface UpdateMembershipParams {
  organizationId: string;
  userId: string;
  role?: string;
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
}

/** Filters of `GET /v1/users` and `/v1/users/count`. */
export interface UserQuery {
  userId?: string[];
  emailAddress?: string[];
  phoneNumber?: string[];
  username?: string[];
  externalId?: string[];
  organizationId?: string[];
  query?: string;
}

/** Filters of `GET /v1/organizations`. */
export interface OrganizationQuery {
  organizationId?: string[];
  userId?: string[];
  query?: string;
}

/** Filters of `GET /v1/organizations/{id}/memberships`. */
export interface MembershipQuery {
  userId?: string[];
  role?: string[];
  emailAddress?: string[];
  query?: string;
}

/** Paging of every list endpoint. */
export interface Page {
  limit: number;
  offset: number;
  orderBy?: string;
}

interface StoredMembership {
  id: string;
  organization_id: string;
  user_id: string;
  role: string;
  public_metadata: Metadata;
  private_metadata: Metadata;
  created_at: number;
  updated_at: number;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An id shaped like Clerk's (`user_2NNEqL2nrIRdJ194ndJqAHwEfxC`). */
export function newClerkId(prefix: 'user' | 'org' | 'orgmem' | 'idn'): string {
  const bytes = randomBytes(27);
  let out = '';
  for (const b of bytes) out += BASE62[b % 62];
  return `${prefix}_${out}`;
}

const DEFAULT_IMAGE = 'https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9';
const ADMIN_PERMISSIONS = [
  'org:sys_profile:manage',
  'org:sys_profile:delete',
  'org:sys_memberships:read',
  'org:sys_memberships:manage',
  'org:sys_domains:read',
  'org:sys_domains:manage',
];
const SLUG = /^[a-z0-9][a-z0-9_-]*$/;

function notFound(what: 'user' | 'organization' | 'membership', id: string): ClerkSandboxError {
  const long =
    what === 'user'
      ? `No user was found with id ${id}`
      : what === 'organization'
        ? 'Given organization not found.'
        : 'Given organization membership not found.';
  return new ClerkSandboxError(404, 'resource_not_found', 'not found', long);
}

function paramError(status: number, code: string, param: string, message: string): ClerkSandboxError {
  return new ClerkSandboxError(status, code, message, message, { param_name: param });
}

/**
 * The sandbox's Clerk instance: users, organizations and memberships, the Backend API's reads, and
 * mutators that each return the webhook event Clerk would send for them.
 */
export class ClerkStore {
  private users = new Map<string, UserJSON>();
  private orgs = new Map<string, OrganizationJSON>();
  private memberships = new Map<string, StoredMembership>();
  /** orgId → userId → membership id, so member look-ups stay O(1) with thousands of records. */
  private byOrg = new Map<string, Map<string, string>>();
  private byUser = new Map<string, Set<string>>();
  private emailOwner = new Map<string, string>();
  private slugOwner = new Map<string, string>();
  private lastTick = 0;

  constructor(
    private readonly seed: ClerkSeed,
    readonly instanceId = 'ins_2clerksyncsandbox00000000',
  ) {
    this.reset();
  }

  /** Back to the seed. */
  reset(): void {
    this.users.clear();
    this.orgs.clear();
    this.memberships.clear();
    this.byOrg.clear();
    this.byUser.clear();
    this.emailOwner.clear();
    this.slugOwner.clear();
    const base = Date.now() - 30 * 24 * 3600_000;
    for (const [i, u] of (this.seed.users ?? []).entries()) {
      const createdAt = u.created_at ?? base + i * 60_000;
      const emails = (u.email_addresses ?? []).map((e) => this.emailJSON(e.id, e.email_address, createdAt));
      const phones = (u.phone_numbers ?? []).map((p) => this.phoneJSON(p.id, p.phone_number, createdAt));
      this.putUser({
        ...this.blankUser(u.id, createdAt),
        first_name: u.first_name ?? null,
        last_name: u.last_name ?? null,
        username: u.username ?? null,
        external_id: u.external_id ?? null,
        email_addresses: emails,
        phone_numbers: phones,
        primary_email_address_id: u.primary_email_address_id ?? emails[0]?.id ?? null,
        primary_phone_number_id: u.primary_phone_number_id ?? phones[0]?.id ?? null,
        public_metadata: u.public_metadata ?? {},
        private_metadata: u.private_metadata ?? {},
        updated_at: u.updated_at ?? createdAt,
      });
    }
    for (const [i, o] of (this.seed.organizations ?? []).entries()) {
      const createdAt = o.created_at ?? base + i * 60_000;
      this.slugOwner.set(o.slug, o.id);
      this.orgs.set(o.id, {
        ...this.blankOrganization(o.id, o.name, o.slug, createdAt),
        ...(o.created_by && { created_by: o.created_by }),
        max_allowed_memberships: o.max_allowed_memberships ?? 0,
        public_metadata: o.public_metadata ?? {},
        private_metadata: o.private_metadata ?? {},
        updated_at: o.updated_at ?? createdAt,
      });
    }
    for (const [i, m] of (this.seed.memberships ?? []).entries()) {
      if (!this.users.has(m.user_id))
        throw new Error(`clerk seed: membership ${m.id} names unknown user ${m.user_id}`);
      if (!this.orgs.has(m.organization_id)) {
        throw new Error(`clerk seed: membership ${m.id} names unknown organization ${m.organization_id}`);
      }
      const createdAt = m.created_at ?? base + i * 60_000;
      this.putMembership({
        id: m.id,
        organization_id: m.organization_id,
        user_id: m.user_id,
        role: m.role,
        public_metadata: {},
        private_metadata: {},
        created_at: createdAt,
        updated_at: m.updated_at ?? createdAt,
      });
    }
  }

  // ---- reads (Backend API) ----

  /** `GET /v1/users/{id}`. */
  getUser(id: string): UserJSON {
    const user = this.users.get(id);
    if (!user) throw notFound('user', id);
    return structuredClone(user);
  }

  /** `GET /v1/users`: one page, as Clerk answers it (a bare array). */
  listUsers(query: UserQuery, page: Page): UserJSON[] {
    const rows = this.filterUsers(query);
    sortBy(rows, page.orderBy ?? '-created_at', userSortKey);
    return rows.slice(page.offset, page.offset + page.limit).map((u) => structuredClone(u));
  }

  /** `GET /v1/users/count`. */
  countUsers(query: UserQuery): number {
    return this.filterUsers(query).length;
  }

  /** `GET /v1/users/{id}/organization_memberships`, newest first. */
  listUserMemberships(userId: string, page: Page): { data: MembershipJSON[]; total_count: number } {
    if (!this.users.has(userId)) throw notFound('user', userId);
    const rows = [...(this.byUser.get(userId) ?? [])].map((id) => this.memberships.get(id)!);
    sortBy(rows, '-created_at', (m, field) => (field === 'created_at' ? m.created_at : m.id));
    return {
      data: rows.slice(page.offset, page.offset + page.limit).map((m) => this.membershipJSON(m)),
      total_count: rows.length,
    };
  }

  /** `GET /v1/organizations/{id or slug}`. */
  getOrganization(idOrSlug: string, includeMembersCount = false): OrganizationJSON {
    const org = this.findOrganization(idOrSlug);
    if (!org) throw notFound('organization', idOrSlug);
    return this.organizationJSON(org, includeMembersCount);
  }

  /** `GET /v1/organizations`. */
  listOrganizations(
    query: OrganizationQuery,
    page: Page,
    includeMembersCount = false,
  ): { data: OrganizationJSON[]; total_count: number } {
    let rows = [...this.orgs.values()];
    if (query.organizationId?.length) rows = rows.filter((o) => query.organizationId!.includes(o.id));
    if (query.userId?.length) {
      rows = rows.filter((o) => query.userId!.some((u) => this.byOrg.get(o.id)?.has(u)));
    }
    if (query.query) {
      const q = query.query.toLowerCase();
      rows = rows.filter((o) => [o.id, o.name, o.slug].some((s) => s.toLowerCase().includes(q)));
    }
    sortBy(rows, page.orderBy ?? '-created_at', (o, field) =>
      field === 'members_count'
        ? (this.byOrg.get(o.id)?.size ?? 0)
        : (o as unknown as Record<string, unknown>)[field],
    );
    return {
      data: rows
        .slice(page.offset, page.offset + page.limit)
        .map((o) => this.organizationJSON(o, includeMembersCount)),
      total_count: rows.length,
    };
  }

  /** `GET /v1/organizations/{id}/memberships`. */
  listOrganizationMemberships(
    idOrSlug: string,
    query: MembershipQuery,
    page: Page,
  ): { data: MembershipJSON[]; total_count: number } {
    const org = this.findOrganization(idOrSlug);
    if (!org) throw notFound('organization', idOrSlug);
    let rows = [...(this.byOrg.get(org.id)?.values() ?? [])].map((id) => this.memberships.get(id)!);
    if (query.userId?.length) rows = rows.filter((m) => query.userId!.includes(m.user_id));
    if (query.role?.length) rows = rows.filter((m) => query.role!.includes(m.role));
    if (query.emailAddress?.length) {
      const wanted = query.emailAddress.map((e) => e.toLowerCase());
      rows = rows.filter((m) =>
        this.users
          .get(m.user_id)
          ?.email_addresses.some((e) => wanted.includes(e.email_address.toLowerCase())),
      );
    }
    if (query.query) {
      const q = query.query.toLowerCase();
      rows = rows.filter((m) => userMatches(this.users.get(m.user_id)!, q));
    }
    sortBy(rows, page.orderBy ?? '-created_at', (m, field) => {
      if (field === 'created_at') return m.created_at;
      const user = this.users.get(m.user_id)!;
      return field === 'email_address'
        ? primaryEmail(user)
        : (user as unknown as Record<string, unknown>)[field];
    });
    return {
      data: rows.slice(page.offset, page.offset + page.limit).map((m) => this.membershipJSON(m)),
      total_count: rows.length,
    };
  }

  /** Everything, for the page and `GET /_sandbox/state`. */
  snapshot(): { users: UserJSON[]; organizations: OrganizationJSON[]; memberships: MembershipJSON[] } {
    return {
      users: [...this.users.values()].map((u) => structuredClone(u)),
      organizations: [...this.orgs.values()].map((o) => this.organizationJSON(o, true)),
      memberships: [...this.memberships.values()].map((m) => this.membershipJSON(m)),
    };
  }

  // ---- mutators: each returns the event Clerk sends for it ----

  /** Creates a user → `user.created`. */
  createUser(p: CreateUserParams = {}): ClerkEvent {
    const id = p.id ?? newClerkId('user');
    if (this.users.has(id))
      throw paramError(422, 'form_identifier_exists', 'id', `User ${id} already exists.`);
    const at = this.tick();
    const user = this.blankUser(id, p.createdAt ?? at);
    user.updated_at = at;
    this.applyUserParams(user, p, at);
    this.putUser(user);
    return this.event('user.created', structuredClone(user), at);
  }

  /** Changes a user → `user.updated`. */
  updateUser(id: string, p: UpdateUserParams): ClerkEvent {
    const user = this.users.get(id);
    if (!user) throw notFound('user', id);
    const at = this.tick();
    const next = structuredClone(user);
    this.applyUserParams(next, p, at);
    next.updated_at = at;
    this.dropEmailIndex(user);
    this.putUser(next);
    return this.event('user.updated', structuredClone(next), at);
  }

  /** Deletes a user and, silently as Clerk does, their memberships → `user.deleted` (id only). */
  deleteUser(id: string): ClerkEvent {
    const user = this.users.get(id);
    if (!user) throw notFound('user', id);
    const at = this.tick();
    for (const mid of this.byUser.get(id) ?? []) this.dropMembership(this.memberships.get(mid)!);
    this.dropEmailIndex(user);
    this.users.delete(id);
    this.byUser.delete(id);
    return this.event(
      'user.deleted',
      { deleted: true, id, object: 'user', ...(user.external_id && { external_id: user.external_id }) },
      at,
    );
  }

  /** Creates an organization → `organization.created` (the creator is not added: see `addMembership`). */
  createOrganization(p: CreateOrganizationParams): ClerkEvent {
    const name = p.name?.trim();
    if (!name) throw paramError(422, 'form_param_missing', 'name', 'name must be included.');
    if (name.length > 256) {
      throw paramError(
        422,
        'form_param_exceeds_allowed_size',
        'name',
        'name must be at most 256 characters long.',
      );
    }
    if (p.createdBy !== undefined && !this.users.has(p.createdBy)) {
      throw new ClerkSandboxError(
        400,
        'organization_creator_not_found',
        'Organization creator not found',
        `The user ${p.createdBy} that was set as the organization creator could not be found.`,
      );
    }
    const id = p.id ?? newClerkId('org');
    if (this.orgs.has(id))
      throw paramError(422, 'form_identifier_exists', 'id', `Organization ${id} already exists.`);
    const slug = p.slug !== undefined ? this.checkSlug(p.slug, id) : this.freeSlug(name);
    const at = this.tick();
    const org: OrganizationJSON = {
      ...this.blankOrganization(id, name, slug, p.createdAt ?? at),
      ...(p.createdBy && { created_by: p.createdBy }),
      max_allowed_memberships: p.maxAllowedMemberships ?? 0,
      public_metadata: p.publicMetadata ?? {},
      private_metadata: p.privateMetadata ?? {},
      updated_at: at,
    };
    this.orgs.set(id, org);
    this.slugOwner.set(slug, id);
    return this.event('organization.created', this.organizationJSON(org, false), at);
  }

  /** Changes an organization → `organization.updated`. */
  updateOrganization(id: string, p: UpdateOrganizationParams): ClerkEvent {
    const org = this.findOrganization(id);
    if (!org) throw notFound('organization', id);
    // Validate everything first: a refused update changes nothing.
    if (p.name !== undefined && !p.name.trim())
      throw paramError(422, 'form_param_missing', 'name', 'name must be included.');
    if (p.slug !== undefined) this.checkSlug(p.slug, org.id);
    const at = this.tick();
    if (p.name !== undefined) org.name = p.name.trim();
    if (p.slug !== undefined && p.slug !== org.slug) {
      this.slugOwner.delete(org.slug);
      this.slugOwner.set(p.slug, org.id);
      org.slug = p.slug;
    }
    if (p.maxAllowedMemberships !== undefined) org.max_allowed_memberships = p.maxAllowedMemberships;
    if (p.adminDeleteEnabled !== undefined) org.admin_delete_enabled = p.adminDeleteEnabled;
    if (p.publicMetadata !== undefined) org.public_metadata = p.publicMetadata;
    if (p.privateMetadata !== undefined) org.private_metadata = p.privateMetadata;
    org.updated_at = at;
    return this.event('organization.updated', this.organizationJSON(org, false), at);
  }

  /** Deep-merges metadata (null removes a key), as `PATCH /v1/organizations/{id}/metadata` → `organization.updated`. */
  mergeOrganizationMetadata(
    id: string,
    p: { publicMetadata?: Metadata; privateMetadata?: Metadata },
  ): ClerkEvent {
    const org = this.findOrganization(id);
    if (!org) throw notFound('organization', id);
    return this.updateOrganization(org.id, {
      ...(p.publicMetadata && { publicMetadata: deepMerge(org.public_metadata, p.publicMetadata) }),
      ...(p.privateMetadata && { privateMetadata: deepMerge(org.private_metadata, p.privateMetadata) }),
    });
  }

  /** Deletes an organization and its memberships → `organization.deleted` (id and slug, no name). */
  deleteOrganization(id: string): ClerkEvent {
    const org = this.findOrganization(id);
    if (!org) throw notFound('organization', id);
    const at = this.tick();
    for (const mid of this.byOrg.get(org.id)?.values() ?? []) this.dropMembership(this.memberships.get(mid)!);
    this.orgs.delete(org.id);
    this.byOrg.delete(org.id);
    this.slugOwner.delete(org.slug);
    return this.event(
      'organization.deleted',
      { deleted: true, id: org.id, object: 'organization', slug: org.slug },
      at,
    );
  }

  /** Adds a user to an organization → `organizationMembership.created`. */
  addMembership(p: AddMembershipParams): ClerkEvent {
    const org = this.findOrganization(p.organizationId);
    if (!org) throw notFound('organization', p.organizationId);
    if (!this.users.has(p.userId)) throw notFound('user', p.userId);
    if (this.byOrg.get(org.id)?.has(p.userId)) {
      throw new ClerkSandboxError(
        400,
        'already_a_member_in_organization',
        'already a member',
        `User is already a member of the organization.`,
      );
    }
    const members = this.byOrg.get(org.id)?.size ?? 0;
    if (org.max_allowed_memberships > 0 && members >= org.max_allowed_memberships) {
      throw new ClerkSandboxError(
        403,
        'organization_membership_quota_exceeded',
        'Membership quota exceeded',
        'You have reached the maximum number of members allowed in this organization.',
      );
    }
    const at = this.tick();
    const m: StoredMembership = {
      id: p.id ?? newClerkId('orgmem'),
      organization_id: org.id,
      user_id: p.userId,
      role: checkRole(p.role ?? 'org:member'),
      public_metadata: p.publicMetadata ?? {},
      private_metadata: p.privateMetadata ?? {},
      created_at: p.createdAt ?? at,
      updated_at: at,
    };
    this.putMembership(m);
    return this.event('organizationMembership.created', this.membershipJSON(m), at);
  }

  /** Changes a member's role or metadata → `organizationMembership.updated`. */
  updateMembership(p: UpdateMembershipParams): ClerkEvent {
    const m = this.findMembership(p.organizationId, p.userId);
    const at = this.tick();
    if (p.role !== undefined) m.role = checkRole(p.role);
    if (p.publicMetadata !== undefined) m.public_metadata = p.publicMetadata;
    if (p.privateMetadata !== undefined) m.private_metadata = p.privateMetadata;
    m.updated_at = at;
    return this.event('organizationMembership.updated', this.membershipJSON(m), at);
  }

  /** Removes a user from an organization → `organizationMembership.deleted`, carrying the FULL membership. */
  removeMembership(p: { organizationId: string; userId: string }): ClerkEvent {
    const m = this.findMembership(p.organizationId, p.userId);
    const at = this.tick();
    const data = this.membershipJSON(m);
    this.dropMembership(m);
    return this.event('organizationMembership.deleted', data, at);
  }

  /** The membership of a user in an organization, as the API shows it. */
  getMembership(organizationId: string, userId: string): MembershipJSON {
    return this.membershipJSON(this.findMembership(organizationId, userId));
  }

  // ---- internals ----

  /** Strictly increasing ms: `updated_at` and event timestamps order the product's stale-event guard. */
  private tick(): number {
    this.lastTick = Math.max(Date.now(), this.lastTick + 1);
    return this.lastTick;
  }

  private event(type: ClerkEvent['type'], data: unknown, at: number): ClerkEvent {
    return {
      data,
      object: 'event',
      type,
      timestamp: at,
      instance_id: this.instanceId,
      event_attributes: { http_request: { client_ip: '127.0.0.1', user_agent: 'clerk-sync-sandbox' } },
    } as ClerkEvent;
  }

  private blankUser(id: string, createdAt: number): UserJSON {
    return {
      id,
      object: 'user',
      username: null,
      first_name: null,
      last_name: null,
      image_url: DEFAULT_IMAGE,
      has_image: false,
      primary_email_address_id: null,
      primary_phone_number_id: null,
      primary_web3_wallet_id: null,
      password_enabled: false,
      two_factor_enabled: false,
      totp_enabled: false,
      backup_code_enabled: false,
      email_addresses: [],
      phone_numbers: [],
      web3_wallets: [],
      passkeys: [],
      external_accounts: [],
      saml_accounts: [],
      enterprise_accounts: [],
      password_last_updated_at: null,
      public_metadata: {},
      private_metadata: {},
      unsafe_metadata: {},
      external_id: null,
      last_sign_in_at: null,
      banned: false,
      locked: false,
      deprovisioned: false,
      lockout_expires_in_seconds: null,
      verification_attempts_remaining: 100,
      created_at: createdAt,
      updated_at: createdAt,
      last_active_at: null,
      create_organization_enabled: true,
      create_organizations_limit: null,
      delete_self_enabled: true,
      legal_accepted_at: null,
      locale: null,
    };
  }

  private blankOrganization(id: string, name: string, slug: string, createdAt: number): OrganizationJSON {
    return {
      id,
      object: 'organization',
      name,
      slug,
      image_url: DEFAULT_IMAGE,
      has_image: false,
      max_allowed_memberships: 0,
      admin_delete_enabled: true,
      public_metadata: {},
      private_metadata: {},
      created_at: createdAt,
      updated_at: createdAt,
    };
  }

  private emailJSON(id: string, address: string, at: number): EmailAddressJSON {
    return {
      id,
      object: 'email_address',
      email_address: address,
      reserved: false,
      verification: {
        object: 'verification_email_code',
        status: 'verified',
        strategy: 'email_code',
        attempts: 1,
        expire_at: at + 600_000,
      },
      linked_to: [],
      matches_sso_connection: false,
      created_at: at,
      updated_at: at,
    };
  }

  private phoneJSON(id: string, phone: string, at: number): PhoneNumberJSON {
    return {
      id,
      object: 'phone_number',
      phone_number: phone,
      reserved_for_second_factor: false,
      default_second_factor: false,
      reserved: false,
      verification: {
        object: 'verification_otp',
        status: 'verified',
        strategy: 'phone_code',
        attempts: 1,
        expire_at: at + 600_000,
      },
      linked_to: [],
      backup_codes: null,
      created_at: at,
      updated_at: at,
    };
  }

  private applyUserParams(user: UserJSON, p: UpdateUserParams, at: number): void {
    if (p.firstName !== undefined) user.first_name = p.firstName;
    if (p.lastName !== undefined) user.last_name = p.lastName;
    if (p.username !== undefined) user.username = p.username;
    if (p.externalId !== undefined) user.external_id = p.externalId;
    if (p.publicMetadata !== undefined) user.public_metadata = p.publicMetadata;
    if (p.privateMetadata !== undefined) user.private_metadata = p.privateMetadata;
    if (p.unsafeMetadata !== undefined) user.unsafe_metadata = p.unsafeMetadata;
    const emails =
      p.emailAddress ??
      (p.primaryEmailAddress !== undefined ? user.email_addresses.map((e) => e.email_address) : undefined);
    if (emails) {
      const all =
        p.primaryEmailAddress && !emails.includes(p.primaryEmailAddress)
          ? [...emails, p.primaryEmailAddress]
          : emails;
      for (const address of all) {
        const owner = this.emailOwner.get(address.toLowerCase());
        if (owner && owner !== user.id) {
          throw paramError(
            422,
            'form_identifier_exists',
            'email_address',
            'That email address is taken. Please try another.',
          );
        }
      }
      const kept = new Map(user.email_addresses.map((e) => [e.email_address, e]));
      user.email_addresses = all.map((a) => kept.get(a) ?? this.emailJSON(newClerkId('idn'), a, at));
      const primary = p.primaryEmailAddress ?? all[0];
      user.primary_email_address_id =
        user.email_addresses.find((e) => e.email_address === primary)?.id ?? null;
    }
    const phones = p.phoneNumber;
    if (phones) {
      const kept = new Map(user.phone_numbers.map((e) => [e.phone_number, e]));
      user.phone_numbers = phones.map((n) => kept.get(n) ?? this.phoneJSON(newClerkId('idn'), n, at));
    }
    if (phones || p.primaryPhoneNumber !== undefined) {
      const primary = p.primaryPhoneNumber ?? user.phone_numbers[0]?.phone_number;
      user.primary_phone_number_id = user.phone_numbers.find((n) => n.phone_number === primary)?.id ?? null;
    }
  }

  private putUser(user: UserJSON): void {
    this.users.set(user.id, user);
    for (const e of user.email_addresses) this.emailOwner.set(e.email_address.toLowerCase(), user.id);
  }

  private dropEmailIndex(user: UserJSON): void {
    for (const e of user.email_addresses) {
      if (this.emailOwner.get(e.email_address.toLowerCase()) === user.id)
        this.emailOwner.delete(e.email_address.toLowerCase());
    }
  }

  private putMembership(m: StoredMembership): void {
    this.memberships.set(m.id, m);
    let inOrg = this.byOrg.get(m.organization_id);
    if (!inOrg) this.byOrg.set(m.organization_id, (inOrg = new Map<string, string>()));
    inOrg.set(m.user_id, m.id);
    let ofUser = this.byUser.get(m.user_id);
    if (!ofUser) this.byUser.set(m.user_id, (ofUser = new Set<string>()));
    ofUser.add(m.id);
  }

  private dropMembership(m: StoredMembership): void {
    this.memberships.delete(m.id);
    this.byOrg.get(m.organization_id)?.delete(m.user_id);
    this.byUser.get(m.user_id)?.delete(m.id);
  }

  private findOrganization(idOrSlug: string): OrganizationJSON | undefined {
    const byId = this.orgs.get(idOrSlug);
    if (byId) return byId;
    const bySlug = this.slugOwner.get(idOrSlug);
    return bySlug === undefined ? undefined : this.orgs.get(bySlug);
  }

  private findMembership(organizationId: string, userId: string): StoredMembership {
    const org = this.findOrganization(organizationId);
    if (!org) throw notFound('organization', organizationId);
    const id = this.byOrg.get(org.id)?.get(userId);
    if (!id) throw notFound('membership', `${organizationId}/${userId}`);
    return this.memberships.get(id)!;
  }

  private checkSlug(slug: string, ownerId: string): string {
    if (!SLUG.test(slug)) {
      throw paramError(
        422,
        'form_param_format_invalid',
        'slug',
        'slug must contain only lowercase alphanumeric characters and the dash "-" character.',
      );
    }
    const owner = this.slugOwner.get(slug);
    if (owner !== undefined && owner !== ownerId) {
      throw paramError(422, 'form_identifier_exists', 'slug', 'That slug is taken. Please try another.');
    }
    return slug;
  }

  private freeSlug(name: string): string {
    const base =
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'organization';
    if (!this.slugOwner.has(base)) return base;
    for (;;) {
      const candidate = `${base}-${randomBytes(3).toString('hex')}`;
      if (!this.slugOwner.has(candidate)) return candidate;
    }
  }

  private organizationJSON(org: OrganizationJSON, includeMembersCount: boolean): OrganizationJSON {
    const json = structuredClone(org);
    if (includeMembersCount) json.members_count = this.byOrg.get(org.id)?.size ?? 0;
    return json;
  }

  private membershipJSON(m: StoredMembership): MembershipJSON {
    const user = this.users.get(m.user_id)!;
    const org = this.orgs.get(m.organization_id)!;
    const publicUserData: PublicUserDataJSON = {
      user_id: user.id,
      first_name: user.first_name,
      last_name: user.last_name,
      identifier: primaryEmail(user) ?? primaryPhone(user) ?? user.username ?? '',
      image_url: user.image_url,
      profile_image_url: user.image_url,
      has_image: user.has_image,
      username: user.username,
    };
    return {
      id: m.id,
      object: 'organization_membership',
      role: m.role,
      role_name: roleName(m.role),
      permissions: m.role === 'org:admin' ? [...ADMIN_PERMISSIONS] : ['org:sys_memberships:read'],
      public_metadata: structuredClone(m.public_metadata),
      private_metadata: structuredClone(m.private_metadata),
      organization: this.organizationJSON(org, false),
      public_user_data: publicUserData,
      created_at: m.created_at,
      updated_at: m.updated_at,
    };
  }

  private filterUsers(q: UserQuery): UserJSON[] {
    let rows = [...this.users.values()];
    if (q.userId?.length) rows = rows.filter((u) => q.userId!.includes(u.id));
    if (q.externalId?.length)
      rows = rows.filter((u) => u.external_id !== null && q.externalId!.includes(u.external_id));
    if (q.username?.length)
      rows = rows.filter((u) => u.username !== null && q.username!.includes(u.username));
    if (q.emailAddress?.length) {
      const wanted = new Set(q.emailAddress.map((e) => e.toLowerCase()));
      rows = rows.filter((u) => u.email_addresses.some((e) => wanted.has(e.email_address.toLowerCase())));
    }
    if (q.phoneNumber?.length)
      rows = rows.filter((u) => u.phone_numbers.some((n) => q.phoneNumber!.includes(n.phone_number)));
    if (q.organizationId?.length) {
      rows = rows.filter((u) => q.organizationId!.some((o) => this.byOrg.get(o)?.has(u.id)));
    }
    if (q.query) {
      const needle = q.query.toLowerCase();
      rows = rows.filter((u) => userMatches(u, needle));
    }
    return rows;
  }
}

function userMatches(u: UserJSON, needle: string): boolean {
  return [
    u.id,
    u.first_name,
    u.last_name,
    u.username,
    u.external_id,
    ...u.email_addresses.map((e) => e.email_address),
    ...u.phone_numbers.map((n) => n.phone_number),
  ].some((s) => s?.toLowerCase().includes(needle));
}

function primaryEmail(u: UserJSON): string | undefined {
  return u.email_addresses.find((e) => e.id === u.primary_email_address_id)?.email_address;
}

function primaryPhone(u: UserJSON): string | undefined {
  return u.phone_numbers.find((n) => n.id === u.primary_phone_number_id)?.phone_number;
}

function userSortKey(u: UserJSON, field: string): unknown {
  return field === 'email_address' ? primaryEmail(u) : (u as unknown as Record<string, unknown>)[field];
}

function checkRole(role: string): string {
  if (!/^org:[a-z0-9_:-]+$/.test(role)) {
    throw paramError(422, 'form_param_value_invalid', 'role', `${role} is not a valid role.`);
  }
  return role;
}

function roleName(role: string): string {
  const key = role.replace(/^org:/, '');
  return key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, ' ');
}

/** Sorts in place by Clerk's `order_by` (`-field` descending, `+field`/`field` ascending), ties by id. */
function sortBy<T extends { id: string }>(
  rows: T[],
  orderBy: string,
  key: (row: T, field: string) => unknown,
): void {
  const desc = orderBy.startsWith('-');
  const field = orderBy.replace(/^[-+ ]/, '');
  const sign = desc ? -1 : 1;
  rows.sort((a, b) => {
    const ka = key(a, field);
    const kb = key(b, field);
    if (ka === kb) return a.id < b.id ? -sign : a.id > b.id ? sign : 0;
    if (ka === null || ka === undefined) return 1;
    if (kb === null || kb === undefined) return -1;
    return (ka < kb ? -1 : 1) * sign;
  });
}

function deepMerge(base: Metadata, patch: Metadata): Metadata {
  const out: Metadata = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k])) out[k] = deepMerge(out[k], v);
    else out[k] = v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Metadata {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
