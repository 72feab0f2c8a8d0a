import type { ClerkClient, OrganizationMembership } from '@clerk/backend';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { Connection } from 'jsforce';
import { membershipsOfUser } from '../../activities/clerk';
import {
  checkClerk,
  ClerkMembership,
  ClerkOrganization,
  ClerkUser,
  type ClerkOrganization as ClerkOrganizationData,
  type ClerkUser as ClerkUserData,
} from '../../shared/clerk';
import { membershipSyncFrom, type MembershipSync } from '../../shared/mapping';
import { ClerkEventType, ClerkOrganizationId, ClerkUserId } from '../../shared/search-attributes';

// What `clerk-sync explain` reads, and nothing else: Clerk's current record and memberships, what Salesforce holds,
// and every workflow Temporal's visibility has for the id. Read-only; the plan (plan.ts) is pure.

/** Whose records: a Clerk user or organization. */
export type Subject = { kind: 'user'; id: string } | { kind: 'organization'; id: string };

/** A membership row as Salesforce holds it, with the Clerk ids of both ends. */
export interface StoredMembership {
  Id: string;
  Clerk_Membership_Id__c: string;
  Role__c: string | null;
  Clerk_Updated_At__c: number | null;
  userId: string | null;
  organizationId: string | null;
}

/** A Contact or an Account as Salesforce holds it (the fields the sync writes). */
export type StoredRecord = Record<string, unknown> & {
  Id: string;
  Clerk_Status__c: string | null;
  Clerk_Updated_At__c: number | null;
};

/** One workflow of the id, as visibility lists it, with what its history says. */
export interface WorkflowFacts {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  eventType?: string;
  userId?: string;
  organizationId?: string;
  startTime: string;
  closeTime?: string;
  /** From its input: the Clerk record id and version (`data.id`, `data.updated_at`) it carried. */
  recordId?: string;
  version?: number;
  /** A failed (timed-out, terminated) run: its failure's type and message. */
  failure?: { type: string; message: string };
  /** A running one: the activity that keeps failing, its attempt, and its last failure. */
  pending?: { activity: string; attempt: number; type: string; message: string };
}

/** Everything `explain` compares. */
export interface Facts {
  subject: Subject;
  /** Clerk's current record (null: deleted or never existed); for a user, its memberships; for an organization, its. */
  clerk: {
    user?: ClerkUserData | null;
    organization?: ClerkOrganizationData | null;
    memberships: MembershipSync[];
  };
  salesforce: { record: StoredRecord | null; memberships: StoredMembership[] };
  /** Newest first. */
  workflows: WorkflowFacts[];
}

const PAGE = 500;
const isNotFound = (err: unknown) => (err as { status?: unknown })?.status === 404;

/** Clerk's current record and memberships of the subject; a deleted one is null with no memberships. */
export async function readClerk(clerk: ClerkClient, subject: Subject): Promise<Facts['clerk']> {
  const toSync = (m: OrganizationMembership): MembershipSync[] => {
    const checked = checkClerk(ClerkMembership, m.raw);
    return checked.ok ? [membershipSyncFrom(checked.value)] : [];
  };
  if (subject.kind === 'user') {
    let user: ClerkUserData | null = null;
    try {
      const checked = checkClerk(ClerkUser, (await clerk.users.getUser(subject.id)).raw);
      if (!checked.ok) throw new Error(`Clerk answered an unusable user: ${checked.problems.join('; ')}`);
      user = checked.value;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const memberships = user ? ((await membershipsOfUser(clerk, subject.id)) ?? []) : [];
    return { user, memberships: memberships.flatMap(toSync) };
  }
  let organization: ClerkOrganizationData | null = null;
  try {
    const org = await clerk.organizations.getOrganization({ organizationId: subject.id });
    const checked = checkClerk(ClerkOrganization, org.raw);
    if (!checked.ok)
      throw new Error(`Clerk answered an unusable organization: ${checked.problems.join('; ')}`);
    organization = checked.value;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const found = new Map<string, OrganizationMembership>();
  if (organization) {
    for (let offset = 0; ;) {
      const page = await clerk.organizations.getOrganizationMembershipList({
        organizationId: subject.id,
        limit: PAGE,
        offset,
      });
      for (const m of page.data) found.set(m.id, m);
      offset += page.data.length;
      if (page.data.length === 0 || offset >= page.totalCount) break;
    }
  }
  return { organization, memberships: [...found.values()].flatMap(toSync) };
}

const CONTACT_FIELDS = 'Id, FirstName, LastName, Email, Phone, AccountId, Account.Clerk_Organization_Id__c';
const ACCOUNT_FIELDS = 'Id, Name, Clerk_Slug__c';
const MEMBERSHIP_FIELDS =
  'Id, Clerk_Membership_Id__c, Role__c, Clerk_Updated_At__c, Contact__r.Clerk_User_Id__c, Account__r.Clerk_Organization_Id__c';

/** The subject's Contact or Account and its membership rows. SOQL `=` ignores case: keep the exact id's only. */
export async function readSalesforce(conn: Connection, subject: Subject): Promise<Facts['salesforce']> {
  const [object, fields, key, via] =
    subject.kind === 'user'
      ? (['Contact', CONTACT_FIELDS, 'Clerk_User_Id__c', 'Contact__r.Clerk_User_Id__c'] as const)
      : ([
          'Account',
          ACCOUNT_FIELDS,
          'Clerk_Organization_Id__c',
          'Account__r.Clerk_Organization_Id__c',
        ] as const);
  const records = await conn.query<StoredRecord>(
    `SELECT ${fields}, ${key}, Clerk_Status__c, Clerk_Updated_At__c FROM ${object} WHERE ${key} = '${subject.id}'`,
    { autoFetch: true, maxFetch: 100 },
  );
  const record = records.records.find((r) => r[key] === subject.id) ?? null;
  const rows = await conn.query<Record<string, unknown>>(
    `SELECT ${MEMBERSHIP_FIELDS} FROM Clerk_Membership__c WHERE ${via} = '${subject.id}'`,
    { autoFetch: true, maxFetch: 1_000_000 },
  );
  const memberships = rows.records
    .map((r): StoredMembership => ({
      Id: String(r.Id),
      Clerk_Membership_Id__c: String(r.Clerk_Membership_Id__c),
      Role__c: (r.Role__c as string | null) ?? null,
      Clerk_Updated_At__c: (r.Clerk_Updated_At__c as number | null) ?? null,
      userId:
        ((r.Contact__r as Record<string, unknown> | null)?.Clerk_User_Id__c as string | undefined) ?? null,
      organizationId:
        ((r.Account__r as Record<string, unknown> | null)?.Clerk_Organization_Id__c as string | undefined) ??
        null,
    }))
    .filter((m) => (subject.kind === 'user' ? m.userId : m.organizationId) === subject.id);
  return { record, memberships };
}

/** At most this many workflows are read (newest first): enough to explain any record. */
export const MAX_WORKFLOWS = 200;

/** Every workflow of the subject, newest first, from visibility (search attributes), with its history's facts. */
export async function readWorkflows(client: Client, subject: Subject): Promise<WorkflowFacts[]> {
  const key = subject.kind === 'user' ? ClerkUserId : ClerkOrganizationId;
  const listed: WorkflowExecutionInfo[] = [];
  for await (const run of client.workflow.list({ query: `${key.name} = '${subject.id}'` })) listed.push(run);
  listed.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  return Promise.all(listed.slice(0, MAX_WORKFLOWS).map((run) => workflowFacts(client, run)));
}

async function workflowFacts(client: Client, run: WorkflowExecutionInfo): Promise<WorkflowFacts> {
  const attributes = run.typedSearchAttributes;
  const facts: WorkflowFacts = {
    workflowId: run.workflowId,
    runId: run.runId,
    type: run.type,
    status: run.status.name,
    eventType: attributes.get(ClerkEventType),
    userId: attributes.get(ClerkUserId),
    organizationId: attributes.get(ClerkOrganizationId),
    startTime: run.startTime.toISOString(),
    closeTime: run.closeTime?.toISOString(),
  };
  const handle = client.workflow.getHandle(run.workflowId, run.runId);
  const events = (await handle.fetchHistory()).events ?? [];
  const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (input) {
    const event = (await decodePayload(client, input)) as
      { data?: { id?: unknown; updated_at?: unknown } } | undefined;
    if (typeof event?.data?.id === 'string') facts.recordId = event.data.id;
    if (typeof event?.data?.updated_at === 'number') facts.version = event.data.updated_at;
  }
  const closed = events.at(-1);
  const failure =
    closed?.workflowExecutionFailedEventAttributes?.failure ??
    (closed?.workflowExecutionTimedOutEventAttributes ? { message: 'the workflow timed out' } : undefined) ??
    (closed?.workflowExecutionTerminatedEventAttributes
      ? { message: `terminated: ${closed.workflowExecutionTerminatedEventAttributes.reason ?? ''}`.trim() }
      : undefined);
  if (failure) facts.failure = await decodeFailure(client, failure);
  if (facts.status === 'RUNNING') {
    const description = await handle.describe();
    const pending =
      description.raw.pendingActivities?.find((a) => a.lastFailure) ?? description.raw.pendingActivities?.[0];
    if (pending) {
      const last = pending.lastFailure ? await decodeFailure(client, pending.lastFailure) : undefined;
      facts.pending = {
        activity: pending.activityType?.name ?? '?',
        attempt: pending.attempt ?? 1,
        type: last?.type ?? 'none yet',
        message: last?.message ?? 'waiting for a worker',
      };
    }
  }
  return facts;
}

/** One payload as the workflow code saw it: through the client's codecs (the encryption key), then converted. */
async function decodePayload(client: Client, payload: Payload): Promise<unknown> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = [payload];
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return payloadConverter.fromPayload(decoded[0]!);
}

type FailureProto = temporal.api.failure.v1.IFailure;

/**
 * The failure an operator acts on: the outermost application failure of the chain (the workflow's own, or the
 * activity's it passed on), with its message decrypted when the failure converter encrypted it.
 */
async function decodeFailure(
  client: Client,
  failure: FailureProto,
): Promise<{ type: string; message: string }> {
  const chain: { type: string; message: string; application: boolean }[] = [];
  for (let f: FailureProto | null | undefined = failure; f; f = f.cause) {
    let message = f.message ?? '';
    if (f.encodedAttributes) {
      const attributes = (await decodePayload(client, f.encodedAttributes)) as {
        message?: unknown;
      };
      if (typeof attributes?.message === 'string') message = attributes.message;
    }
    const application = f.applicationFailureInfo != null;
    const type =
      f.applicationFailureInfo?.type ||
      (f.activityFailureInfo
        ? 'ActivityFailure'
        : f.timeoutFailureInfo
          ? 'Timeout'
          : f.terminatedFailureInfo
            ? 'Terminated'
            : 'Failure');
    chain.push({ type, message, application });
  }
  const chosen = chain.find((c) => c.application) ?? chain.at(-1) ?? { type: 'Failure', message: '' };
  return { type: chosen.type, message: chosen.message };
}
