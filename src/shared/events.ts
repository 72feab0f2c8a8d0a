import type { SearchAttributePair } from '@temporalio/common';
import { ClerkEventType, ClerkOrganizationId, ClerkUserId } from './search-attributes';

/** One Clerk event as every sync workflow receives it: the delivery's id, the event type, its time and `data`. */
export interface ClerkEvent {
  /** The Svix message id; also the workflow id. */
  readonly svixId: string;
  readonly type: string;
  /** The envelope's `timestamp`, normalised to milliseconds (Clerk has sent both seconds and milliseconds). */
  readonly timestamp: number;
  readonly data: Record<string, unknown>;
}

/** The Clerk ids an event concerns, as far as its payload tells. */
export interface EventIds {
  readonly userId?: string;
  readonly organizationId?: string;
}

interface Route {
  /** The exported workflow function that handles the event. */
  readonly workflowType: string;
  /** The Salesforce record the event lands on; shown in the summary. */
  readonly record: 'Contact' | 'Account' | 'Clerk_Membership__c';
  readonly ids: (data: Record<string, unknown>) => EventIds;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const field = (v: unknown, key: string): unknown =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;

const userIds = (d: Record<string, unknown>): EventIds => ({ userId: text(d.id) });
const organizationIds = (d: Record<string, unknown>): EventIds => ({ organizationId: text(d.id) });
const membershipIds = (d: Record<string, unknown>): EventIds => ({
  userId: text(field(d.public_user_data, 'user_id')),
  organizationId: text(field(d.organization, 'id')),
});

/** The routing table: every Clerk event type the product acts on. Anything else is answered `ignored`. */
export const ROUTES = {
  'user.created': { workflowType: 'onboardUser', record: 'Contact', ids: userIds },
  'user.updated': { workflowType: 'syncUser', record: 'Contact', ids: userIds },
  'user.deleted': { workflowType: 'markUserDeleted', record: 'Contact', ids: userIds },
  'organization.created': { workflowType: 'syncOrganization', record: 'Account', ids: organizationIds },
  'organization.updated': { workflowType: 'syncOrganization', record: 'Account', ids: organizationIds },
  'organization.deleted': {
    workflowType: 'markOrganizationDeleted',
    record: 'Account',
    ids: organizationIds,
  },
  'organizationMembership.created': {
    workflowType: 'syncMembership',
    record: 'Clerk_Membership__c',
    ids: membershipIds,
  },
  'organizationMembership.updated': {
    workflowType: 'syncMembership',
    record: 'Clerk_Membership__c',
    ids: membershipIds,
  },
  'organizationMembership.deleted': {
    workflowType: 'removeMembership',
    record: 'Clerk_Membership__c',
    ids: membershipIds,
  },
} as const satisfies Record<string, Route>;

/** A Clerk event type the product acts on. */
export type RoutedEventType = keyof typeof ROUTES;

/** Everything needed to start the workflow for one delivery. */
export interface Delivery {
  readonly svixId: string;
  readonly workflowType: string;
  readonly input: ClerkEvent;
  /** One line for the Temporal UI: event, ids and target record; never names or emails. */
  readonly summary: string;
  readonly searchAttributes: SearchAttributePair[];
  readonly ids: EventIds;
}

/** Milliseconds since the epoch from a Clerk `timestamp` given in seconds or milliseconds. */
export function normaliseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return value < 1e12 ? Math.round(value * 1000) : Math.round(value);
}

/** True for event types in the routing table. */
export function isRoutedEventType(type: string): type is RoutedEventType {
  return Object.prototype.hasOwnProperty.call(ROUTES, type);
}

/**
 * Routes a verified Clerk event to its workflow, or `undefined` for a type the product does not act on.
 * `receivedAt` stands in for a missing envelope timestamp.
 */
export function routeEvent(
  svixId: string,
  event: { type: string; data: Record<string, unknown>; timestamp?: unknown },
  receivedAt: number,
): Delivery | undefined {
  if (!isRoutedEventType(event.type)) return undefined;
  const route: Route = ROUTES[event.type];
  const ids = route.ids(event.data);
  const searchAttributes: SearchAttributePair[] = [{ key: ClerkEventType, value: event.type }];
  if (ids.userId) searchAttributes.push({ key: ClerkUserId, value: ids.userId });
  if (ids.organizationId) searchAttributes.push({ key: ClerkOrganizationId, value: ids.organizationId });
  const who = [
    ids.userId,
    ids.organizationId && (ids.userId ? `in ${ids.organizationId}` : ids.organizationId),
  ]
    .filter(Boolean)
    .join(' ');
  return {
    svixId,
    workflowType: route.workflowType,
    input: {
      svixId,
      type: event.type,
      timestamp: normaliseTimestamp(event.timestamp) ?? receivedAt,
      data: event.data,
    },
    summary: `${event.type} ${who || '(no id)'} → ${route.record}`,
    searchAttributes,
    ids,
  };
}
