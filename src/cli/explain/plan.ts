import { accountFromOrganization, contactFromUser, type MembershipSync } from '../../shared/mapping';
import type { Facts, StoredMembership, WorkflowFacts } from './facts';

// `clerk-sync explain`, decided purely from the facts: what Salesforce should hold (computed by the sync's own
// mapping), where it differs, which workflow should have written each difference and what became of it, and what to
// do. No I/O here: test/cli/explain.test.ts drives it end to end, and each rule reads as one branch below.

/** Why a difference is there, in the words the operator acts on. */
export type CauseKind =
  | 'failed' // the workflow that carries it failed for good: replay it once the cause is fixed
  | 'retrying' // it is still running, an activity failing again and again
  | 'never-received' // no delivery carries it
  | 'salesforce-newer' // Salesforce holds data as new as Clerk's, or newer: the difference is not the sync's to fix
  | 'completed'; // its workflow completed, yet Salesforce differs (changed in Salesforce since?)

/** One difference and its explanation. */
export interface Difference {
  /** `Contact`, `Account` or `Clerk_Membership__c`, and the Clerk id of the record. */
  record: string;
  id: string;
  /** The field that differs, or `missing` / `extra` for a whole record. */
  what: string;
  clerk: unknown;
  salesforce: unknown;
  cause: CauseKind;
  /** The workflow that should have written it, when there is one. */
  workflowId?: string;
  why: string;
  todo: string;
}

/** The explanation: the differences, and the workflows for reference (newest first). */
export interface Explanation {
  subject: Facts['subject'];
  inSync: boolean;
  clerk: string;
  salesforce: string;
  differences: Difference[];
  workflows: Facts['workflows'];
}

const USER_EVENTS = ['user.created', 'user.updated'];
const ORGANIZATION_EVENTS = ['organization.created', 'organization.updated'];
const MEMBERSHIP_EVENTS = ['organizationMembership.created', 'organizationMembership.updated'];
const REPLAYABLE = new Set(['FAILED', 'TIMED_OUT', 'TERMINATED']);

const when = (ms: number | null | undefined) => (ms == null ? 'none' : new Date(ms).toISOString());
const same = (a: unknown, b: unknown) =>
  (a ?? null) === (b ?? null) || (a == null && b === '') || (a === '' && b == null);

/**
 * The cause of a difference whose version Salesforce lacks: the newest workflow carrying the record at Clerk's
 * version (or newer); failing that, a failed or running one of those event types, which would have carried it on.
 */
function causeOf(
  workflows: WorkflowFacts[],
  matches: (w: WorkflowFacts) => boolean,
  version: number,
  what: string,
): Pick<Difference, 'cause' | 'workflowId' | 'why' | 'todo'> {
  const candidates = workflows.filter(matches);
  const carrying = candidates.find((w) => w.version === undefined || w.version >= version);
  const stuck = candidates.find((w) => w.status === 'RUNNING' || REPLAYABLE.has(w.status));
  const w = carrying && carrying.status !== 'COMPLETED' ? carrying : (stuck ?? carrying);
  if (!w) {
    return {
      cause: 'never-received',
      why: `never received: no delivery of ${what} at Clerk's version (${when(version)})`,
      todo: 'npx clerk-sync backfill',
    };
  }
  const name = `${w.type} ${w.workflowId} (${w.eventType ?? w.type}, ${w.startTime})`;
  if (REPLAYABLE.has(w.status)) {
    const failure = w.failure ? `${w.failure.type}: ${w.failure.message}` : w.status.toLowerCase();
    return {
      cause: 'failed',
      workflowId: w.workflowId,
      why: `${name} ${w.status === 'FAILED' ? 'failed' : w.status.toLowerCase().replace('_', ' ')} with ${failure}`,
      todo: `fix the cause, then npx clerk-sync replay ${w.workflowId}`,
    };
  }
  if (w.status === 'RUNNING') {
    const p = w.pending;
    const because = p
      ? `${p.activity}, attempt ${p.attempt}: ${p.type}: ${p.message}`
      : 'it has not finished yet';
    return {
      cause: 'retrying',
      workflowId: w.workflowId,
      why: `${name} still retrying because ${because}`,
      todo: 'nothing to replay: fix the cause named above and it goes on by itself within a minute',
    };
  }
  if (w.version !== undefined && w.version < version) {
    return {
      cause: 'never-received',
      workflowId: w.workflowId,
      why: `never received: the newest delivery, ${name}, carried an older version (${when(w.version)}); none carries Clerk's (${when(version)})`,
      todo: 'npx clerk-sync backfill',
    };
  }
  return {
    cause: 'completed',
    workflowId: w.workflowId,
    why: `${name} completed; Salesforce was changed after it`,
    todo: 'npx clerk-sync backfill (it updates what is older than Clerk), or correct the record in Salesforce',
  };
}

/** Salesforce holds this version or a newer one: no sync would write it again. */
function newer(
  stored: number | null,
  version: number,
): Pick<Difference, 'cause' | 'why' | 'todo'> | undefined {
  if (stored == null || stored < version) return undefined;
  return {
    cause: 'salesforce-newer',
    why:
      stored > version
        ? `Salesforce holds newer data (${when(stored)}) than Clerk's record (${when(version)})`
        : `Salesforce holds Clerk's version (${when(version)}); the field was changed in Salesforce after the sync`,
    todo: stored > version ? 'nothing' : 'nothing for the sync to do: correct it in Salesforce if it matters',
  };
}

/** What Salesforce should hold for the subject, where it does not, and why. */
export function explain(facts: Facts): Explanation {
  const { subject, clerk, salesforce, workflows } = facts;
  const differences: Difference[] = [];
  const record = salesforce.record;
  const recordType = subject.kind === 'user' ? 'Contact' : 'Account';
  const events = subject.kind === 'user' ? USER_EVENTS : ORGANIZATION_EVENTS;
  const current = subject.kind === 'user' ? clerk.user : clerk.organization;
  const ofRecord = (w: WorkflowFacts) =>
    (w.eventType !== undefined && events.includes(w.eventType)) ||
    (w.recordId === subject.id && w.eventType === undefined);

  if (current) {
    const expected: Record<string, unknown> =
      subject.kind === 'user'
        ? { ...contactFromUser(clerk.user!) }
        : { ...accountFromOrganization(clerk.organization!) };
    delete expected.Clerk_User_Id__c;
    delete expected.Clerk_Organization_Id__c;
    expected.Clerk_Status__c = 'Active';
    if (!record) {
      differences.push({
        record: recordType,
        id: subject.id,
        what: 'missing',
        clerk: expected,
        salesforce: null,
        ...causeOf(workflows, ofRecord, current.updated_at, `${subject.id}`),
      });
    } else {
      const fields = Object.keys(expected).filter((f) => !same(expected[f], record[f]));
      for (const field of fields) {
        const deleted = field === 'Clerk_Status__c' && record.Clerk_Status__c === 'Deleted';
        differences.push({
          record: recordType,
          id: subject.id,
          what: field,
          clerk: expected[field],
          salesforce: record[field] ?? null,
          ...(deleted
            ? {
                cause: 'salesforce-newer' as const,
                why: `Salesforce marks it Deleted: a deletion is final, the ${subject.kind} was re-created in Clerk under the same id?`,
                todo: 'nothing the sync will do: correct it in Salesforce if it is wrong',
              }
            : (newer(record.Clerk_Updated_At__c, current.updated_at) ??
              causeOf(workflows, ofRecord, current.updated_at, `${subject.id}`))),
        });
      }
    }
  } else if (record && record.Clerk_Status__c !== 'Deleted') {
    differences.push({
      record: recordType,
      id: subject.id,
      what: 'Clerk_Status__c',
      clerk: 'Deleted (not in Clerk)',
      salesforce: record.Clerk_Status__c,
      ...deletionCause(
        workflows,
        `${subject.kind}.deleted`,
        (w) => w.eventType === `${subject.kind}.deleted`,
      ),
    });
  }

  differences.push(...membershipDifferences(facts));
  if (subject.kind === 'user' && record && clerk.memberships.length > 0) {
    const organizations = clerk.memberships.map((m) => m.account.Clerk_Organization_Id__c);
    const held =
      (record.Account as { Clerk_Organization_Id__c?: string } | null)?.Clerk_Organization_Id__c ?? null;
    if (!held || !organizations.includes(held)) {
      differences.push({
        record: 'Contact',
        id: subject.id,
        what: 'AccountId',
        clerk: `the Account of one of ${organizations.join(', ')}`,
        salesforce: held ? `the Account of ${held}` : null,
        cause: 'never-received',
        why: held
          ? `the Contact's Account is of ${held}, which the user is no longer a member of`
          : 'the Contact has no Account though the user has memberships',
        todo: held
          ? 'correct AccountId in Salesforce'
          : "npx clerk-sync backfill (a Contact without an Account gets its oldest membership's)",
      });
    }
  }

  return {
    subject,
    inSync: differences.length === 0,
    clerk: describeClerk(facts),
    salesforce: describeSalesforce(facts),
    differences,
    workflows,
  };
}

/** A record Salesforce keeps that Clerk no longer has: the deletion's workflow, or none. */
function deletionCause(
  workflows: WorkflowFacts[],
  what: string,
  matches: (w: WorkflowFacts) => boolean,
): Pick<Difference, 'cause' | 'workflowId' | 'why' | 'todo'> {
  const w = workflows.find(matches);
  if (!w) {
    return {
      cause: 'never-received',
      why: `never received: no ${what} delivery`,
      todo: `replay the ${what} from Clerk's dashboard (Webhooks → Message Attempts), or correct Salesforce by hand: the backfill adds and updates, it never deletes`,
    };
  }
  return causeOf([w], () => true, Number.MIN_SAFE_INTEGER, what);
}

function membershipDifferences(facts: Facts): Difference[] {
  const { subject, clerk, salesforce, workflows } = facts;
  const out: Difference[] = [];
  const stored = new Map<string, StoredMembership>(
    salesforce.memberships.map((m) => [m.Clerk_Membership_Id__c, m]),
  );
  const other = (m: MembershipSync) =>
    subject.kind === 'user' ? m.membership.organizationId : m.membership.userId;
  for (const m of clerk.memberships) {
    const id = m.membership.Clerk_Membership_Id__c;
    const row = stored.get(id);
    stored.delete(id);
    const carries = (w: WorkflowFacts) =>
      (w.eventType !== undefined &&
        MEMBERSHIP_EVENTS.includes(w.eventType) &&
        (w.recordId === undefined || w.recordId === id)) ||
      // A sign-up writes the memberships the user already has: a failed or running one holds them back too.
      (w.eventType === 'user.created' && w.userId === m.membership.userId && w.status !== 'COMPLETED');
    const base = { record: 'Clerk_Membership__c', id: `${id} (${other(m)})` };
    if (!row) {
      out.push({
        ...base,
        what: 'missing',
        clerk: {
          Role__c: m.membership.Role__c,
          userId: m.membership.userId,
          organizationId: m.membership.organizationId,
        },
        salesforce: null,
        ...causeOf(workflows, carries, m.version, `membership ${id}`),
      });
    } else if (!same(row.Role__c, m.membership.Role__c)) {
      out.push({
        ...base,
        what: 'Role__c',
        clerk: m.membership.Role__c,
        salesforce: row.Role__c,
        ...(newer(row.Clerk_Updated_At__c, m.version) ??
          causeOf(workflows, carries, m.version, `membership ${id}`)),
      });
    }
  }
  for (const row of stored.values()) {
    const id = row.Clerk_Membership_Id__c;
    const otherId = subject.kind === 'user' ? row.organizationId : row.userId;
    out.push({
      record: 'Clerk_Membership__c',
      id: `${id} (${otherId ?? '?'})`,
      what: 'extra',
      clerk: null,
      salesforce: { Role__c: row.Role__c },
      ...deletionCause(
        workflows,
        'organizationMembership.deleted',
        (w) =>
          (w.eventType === 'organizationMembership.deleted' &&
            (w.recordId === undefined || w.recordId === id)) ||
          w.eventType === `${subject.kind}.deleted`,
      ),
    });
  }
  return out;
}

function describeClerk({ subject, clerk }: Facts): string {
  const current = subject.kind === 'user' ? clerk.user : clerk.organization;
  if (!current) return `no ${subject.kind} ${subject.id} (deleted, or never existed)`;
  const name =
    subject.kind === 'user'
      ? [clerk.user!.first_name, clerk.user!.last_name].filter(Boolean).join(' ') || subject.id
      : clerk.organization!.name;
  return `${name}, updated ${when(current.updated_at)}, ${clerk.memberships.length} membership(s)`;
}

function describeSalesforce({ subject, salesforce }: Facts): string {
  const type = subject.kind === 'user' ? 'Contact' : 'Account';
  const r = salesforce.record;
  const rows = `${salesforce.memberships.length} membership(s)`;
  if (!r) return `no ${type}, ${rows}`;
  return `${type} ${r.Id} (${r.Clerk_Status__c ?? 'no status'}, version ${when(r.Clerk_Updated_At__c)}), ${rows}`;
}
