import type { Sandbox, SalesforceRecord, UserJSON } from '@clerk-sync/sandbox';
import { nameOf, type RunTimeline, type TimelineEvent } from './timeline';

// The fault suite's check (issue 17): every event the redeliverer sent matched to exactly one COMPLETED workflow,
// and every record checked field by field against Clerk's final state, as SPEC's "Event → effect" maps it. Each
// finding names the event that should have written what is wrong, so a loss reads as the event that was lost.

/** One thing that is not as Clerk's final state implies, and the event that should have made it so. */
export interface Finding {
  event?: TimelineEvent;
  problem: string;
}

/** What the check reads: the run's timeline, the sandbox's services and the run's workflow executions. */
export interface CheckInput {
  timeline: RunTimeline;
  sandbox: Sandbox;
  /** The svix-ids the redeliverer sent (attempted at least once). */
  sent: readonly string[];
  /** Every execution (all runs) of the run's sync workflows. */
  executions: { workflowId: string; status: string }[];
}

/** A finding as one line: the event's svix-id, type and record, then what is wrong. */
export function describeFinding(f: Finding): string {
  return `${f.event ? nameOf(f.event) : 'no event'}: ${f.problem}`;
}

/** Everything the check finds wrong in a finished run; empty when every event's effect is there. */
export function checkRun(input: CheckInput): Finding[] {
  return [...workflowFindings(input), ...recordFindings(input), ...messageFindings(input)];
}

/** Each svix-id sent: exactly one run, COMPLETED; and no workflow that no event was sent for. */
function workflowFindings({ timeline, sent, executions }: CheckInput): Finding[] {
  const byId = new Map<string, string[]>();
  for (const e of executions) byId.set(e.workflowId, [...(byId.get(e.workflowId) ?? []), e.status]);
  const findings: Finding[] = [];
  for (const svixId of sent) {
    const statuses = byId.get(svixId) ?? [];
    if (statuses.length !== 1 || statuses[0] !== 'COMPLETED') {
      const event = timeline.events.find((e) => e.svixId === svixId);
      findings.push({
        event,
        problem: `${event ? '' : `${svixId}: `}workflow runs [${statuses.join(', ')}], not one COMPLETED`,
      });
    }
  }
  const known = new Set(sent);
  for (const id of byId.keys())
    if (!known.has(id)) findings.push({ problem: `workflow ${id} matches no event sent` });
  return findings;
}

type ClerkStore = Sandbox['services']['clerk']['store'];

/** Clerk's record, or undefined once Clerk deleted it (its reads answer 404). */
function found<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if ((err as { status?: number }).status === 404) return undefined;
    throw err;
  }
}

/** Salesforce's live records of a type, grouped by an External ID. */
function byKey(sandbox: Sandbox, type: string, key: string): Map<string, SalesforceRecord[]> {
  const map = new Map<string, SalesforceRecord[]>();
  for (const r of sandbox.services.salesforce.records(type)) {
    const k = String(r[key]);
    map.set(k, [...(map.get(k) ?? []), r]);
  }
  return map;
}

/** The fields that differ, as `Field 'have' ≠ 'want'`. */
function diff(have: SalesforceRecord, want: Record<string, unknown>): string[] {
  return Object.entries(want)
    .filter(([field, value]) => !same(have[field], value))
    .map(([field, value]) => `${field} ${JSON.stringify(have[field] ?? null)} ≠ ${JSON.stringify(value)}`);
}

function same(have: unknown, want: unknown): boolean {
  if (typeof want === 'number') return Number(have) === want;
  return (have ?? null) === want;
}

function primaryEmail(user: UserJSON): string | null {
  return user.email_addresses.find((e) => e.id === user.primary_email_address_id)?.email_address ?? null;
}

/** SPEC's Contact for a live user: the names (LastName's fallbacks), primary email and phone, Active, its version. */
function expectedContact(user: UserJSON): Record<string, unknown> {
  const email = primaryEmail(user);
  return {
    FirstName: user.first_name || null,
    LastName: user.last_name || user.username || email?.split('@')[0] || 'Unknown',
    Email: email,
    Phone: user.phone_numbers.find((p) => p.id === user.primary_phone_number_id)?.phone_number ?? null,
    Clerk_Status__c: 'Active',
    Clerk_Updated_At__c: user.updated_at,
  };
}

/** Contacts, Accounts, memberships and each Contact's AccountId against Clerk's final state. */
function recordFindings({ timeline, sandbox }: CheckInput): Finding[] {
  const clerk: ClerkStore = sandbox.services.clerk.store;
  const contacts = byKey(sandbox, 'Contact', 'Clerk_User_Id__c');
  const accounts = byKey(sandbox, 'Account', 'Clerk_Organization_Id__c');
  const memberships = byKey(sandbox, 'Clerk_Membership__c', 'Clerk_Membership_Id__c');
  const findings: Finding[] = [];
  const one = (list: SalesforceRecord[] | undefined, what: string, event?: TimelineEvent) => {
    if (list?.length === 1) return list[0];
    findings.push({ event, problem: `${list?.length ?? 0} ${what} in Salesforce, not one` });
    return undefined;
  };

  const accountIdOf = new Map<string, string>(); // Clerk organization id → Salesforce Account Id
  for (const orgId of timeline.organizations()) {
    const event = timeline.lastFor('account', orgId);
    const account = one(accounts.get(orgId), `Accounts for ${orgId}`, event);
    if (!account) continue;
    accountIdOf.set(orgId, String(account.Id));
    const org = found(() => clerk.getOrganization(orgId));
    const want = org
      ? {
          Name: org.name,
          Clerk_Slug__c: org.slug,
          Clerk_Status__c: 'Active',
          Clerk_Updated_At__c: org.updated_at,
        }
      : { Clerk_Status__c: 'Deleted' };
    for (const d of diff(account, want)) findings.push({ event, problem: `Account ${orgId} ${d}` });
  }

  const clerkMemberships = new Set<string>();
  const contactIds = new Set<string>();
  for (const userId of timeline.users()) {
    const contact = one(contacts.get(userId), `Contacts for ${userId}`, timeline.lastFor('contact', userId));
    if (!contact) continue;
    contactIds.add(String(contact.Id));
    const user = found(() => clerk.getUser(userId));
    const event = timeline.lastFor('contact', userId);
    const want = user ? expectedContact(user) : { Clerk_Status__c: 'Deleted' };
    for (const d of diff(contact, want)) findings.push({ event, problem: `Contact ${userId} ${d}` });

    const current = user ? clerk.listUserMemberships(userId, { limit: 500, offset: 0 }).data : [];
    for (const m of current) {
      clerkMemberships.add(m.id);
      const mEvent = timeline.lastFor('membership', m.id) ?? timeline.lastFor('contact', userId);
      const record = one(memberships.get(m.id), `memberships ${m.id}`, mEvent);
      if (!record) continue;
      const wantMembership = {
        Role__c: m.role,
        Contact__c: contact.Id,
        Account__c: accountIdOf.get(m.organization.id) ?? accounts.get(m.organization.id)?.[0]?.Id ?? null,
        Clerk_Updated_At__c: m.updated_at,
      };
      for (const d of diff(record, wantMembership))
        findings.push({ event: mEvent, problem: `membership ${m.id} ${d}` });
    }
    // AccountId: the Account of one of the user's organizations in Clerk, or none.
    const allowed = current.map((m) => accountIdOf.get(m.organization.id));
    const accountId = (contact.AccountId as string | null | undefined) ?? null;
    if (allowed.length === 0 ? accountId !== null : !allowed.includes(accountId ?? undefined)) {
      findings.push({
        event: timeline.lastFor('accountId', userId),
        problem: `Contact ${userId} AccountId ${JSON.stringify(accountId)} ∉ [${allowed.join(', ')}]`,
      });
    }
  }

  // Memberships Salesforce still has for the run's people or organizations that Clerk no longer has.
  const runAccounts = new Set(accountIdOf.values());
  for (const [id, list] of memberships) {
    if (clerkMemberships.has(id)) continue;
    const ofRun = list.some(
      (r) => contactIds.has(String(r.Contact__c)) || runAccounts.has(String(r.Account__c)),
    );
    if (ofRun)
      findings.push({
        event: timeline.lastFor('membership', id),
        problem: `membership ${id} is in Salesforce, not in Clerk`,
      });
  }
  return findings;
}

/** One welcome email per user with an email; each Slack notice at most once, a sign-up's exactly once. */
function messageFindings({ timeline, sandbox }: CheckInput): Finding[] {
  const clerk: ClerkStore = sandbox.services.clerk.store;
  const emails = sandbox.services.resend.emails();
  const lines = sandbox.services.slack.messages().flatMap((m) => (m.text ?? '').split('\n'));
  const findings: Finding[] = [];
  for (const userId of timeline.users()) {
    const event = timeline.find('user.created', userId);
    const user = found(() => clerk.getUser(userId));
    const address = user && primaryEmail(user);
    if (address) {
      const sent = emails.filter((e) => e.to.includes(address)).length;
      if (sent !== 1) findings.push({ event, problem: `${sent} welcome emails, not one` });
    }
    const signUps = lines.filter((l) => l.startsWith('New sign-up:') && l.includes(`(${userId})`)).length;
    if (signUps !== 1) findings.push({ event, problem: `${signUps} sign-up notices, not one` });
  }
  // Membership notices name the organization (never an email); each change is told once.
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const orgId of timeline.organizations()) {
    const org = found(() => clerk.getOrganization(orgId));
    if (!org) continue;
    for (const [line, n] of counts) {
      if (n < 2 || line.startsWith('New sign-up:') || !line.includes(` ${org.name}`)) continue;
      const kind = / joined /.test(line) ? 'created' : / is now /.test(line) ? 'updated' : 'deleted';
      const event = timeline.events.find(
        (e) => e.type === `organizationMembership.${kind}` && e.organizationId === orgId,
      );
      findings.push({ event, problem: `Slack notice ${JSON.stringify(line)} posted ${n} times` });
    }
  }
  return findings;
}
