import type { ClerkEvent } from '@clerk-sync/sandbox';

// What a fault run streamed, event by event (issue 17): each event with the svix-id it was (or would have been)
// delivered under and the Clerk record it is about, so that a wrong record in Salesforce is reported with the
// event that should have written it.

/** What became of one event: delivered, left out of the stream, or delivered with its Salesforce write discarded. */
export type Fate = 'sent' | 'omitted' | 'discarded';

/** One event of the run's timeline. */
export interface TimelineEvent {
  svixId: string;
  type: ClerkEvent['type'];
  /** The Clerk record it is about: a user, organization or membership id. */
  record: string;
  /** The user it concerns (a membership's member), if any. */
  userId?: string;
  /** A membership's organization. */
  organizationId?: string;
  /** Index of the scripted user whose scenario it belongs to, and whether it is that scenario's last event. */
  user: number;
  last: boolean;
  fate: Fate;
}

interface EventData {
  id: string;
  organization?: { id: string };
  public_user_data?: { user_id: string };
}

/** The run's events in the order Clerk produced them, and which one last concerned each Salesforce record. */
export class RunTimeline {
  readonly events: TimelineEvent[] = [];
  private readonly latest = new Map<string, TimelineEvent>();

  /** Records an event as Clerk produced it (its fate may still change before it is sent). */
  add(event: ClerkEvent, at: { svixId: string; user: number; last: boolean }): TimelineEvent {
    const data = event.data as EventData;
    const userId = event.type.startsWith('user.') ? data.id : data.public_user_data?.user_id;
    const entry: TimelineEvent = {
      ...at,
      type: event.type,
      record: data.id,
      userId,
      organizationId: data.organization?.id,
      fate: 'sent',
    };
    this.events.push(entry);
    for (const key of keysOf(entry)) this.latest.set(key, entry);
    return entry;
  }

  /** Users the run created (every user.created). */
  users(): string[] {
    return this.events.filter((e) => e.type === 'user.created').map((e) => e.record);
  }

  /** Organizations the run created. */
  organizations(): string[] {
    return this.events.filter((e) => e.type === 'organization.created').map((e) => e.record);
  }

  /** Memberships the run's events were about. */
  memberships(): string[] {
    return [...new Set(this.events.filter((e) => isMembership(e.type)).map((e) => e.record))];
  }

  /** The event that last concerned a Contact, its AccountId, an Account or a membership. */
  lastFor(record: 'contact' | 'accountId' | 'account' | 'membership', id: string): TimelineEvent | undefined {
    return this.latest.get(`${record}:${id}`);
  }

  /** The event of a given type about a record, if any. */
  find(type: ClerkEvent['type'], record: string): TimelineEvent | undefined {
    return this.events.find((e) => e.type === type && e.record === record);
  }
}

/** Which Salesforce records an event writes: a user's Contact and its AccountId; an Account; a membership and its member's AccountId. */
function keysOf(e: TimelineEvent): string[] {
  if (e.type.startsWith('user.')) return [`contact:${e.record}`, `accountId:${e.record}`];
  if (e.type.startsWith('organization.')) return [`account:${e.record}`];
  return [`membership:${e.record}`, ...(e.userId ? [`accountId:${e.userId}`] : [])];
}

function isMembership(type: string): boolean {
  return type.startsWith('organizationMembership.');
}

/** How a report names an event: svix-id, type and record. */
export function nameOf(e: TimelineEvent): string {
  return `${e.svixId} ${e.type} ${e.record}${e.fate === 'sent' ? '' : ` (${e.fate})`}`;
}
