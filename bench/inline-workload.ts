import {
  SCENARIOS,
  scenarioEvents,
  type ClerkEvent,
  type HasClerk,
  type ScenarioStep,
} from '@clerk-sync/sandbox';

// The workload the inline handler is compared on: the product fault suite's scripted users (test/faults/harness.ts),
// each one scripted scenario of the sandbox: every third user joins an organization and leaves it, the others join
// one and become its admin. Four events a user (user.created, organization.created, organizationMembership.created,
// then .deleted or .updated), in Clerk's order.

/** Every user's scenario as steps, not yet applied to Clerk (the fault runs apply each as its webhook leaves). */
export function scripts(users: number): ScenarioStep[][] {
  return Array.from({ length: users }, (_, i) => SCENARIOS[i % 3 === 0 ? 'leave-org' : 'role-change']());
}

/** Every user's events with Clerk already in its final state (a pool to cycle through: order is moot). */
export function scriptedEvents(sandbox: HasClerk, users: number): ClerkEvent[] {
  return scripts(users).flatMap((steps) => scenarioEvents(sandbox, steps));
}

/** What the check needs of a scripted user: who they are and the organizations their events created. */
export interface ScriptedUser {
  userId: string;
  organizationIds: string[];
}

/** A user's identity from the events of their scenario. */
export function scriptedUser(events: readonly ClerkEvent[]): ScriptedUser {
  const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;
  const created = events.find((e) => e.type === 'user.created');
  if (!created) throw new Error('a scripted user without user.created');
  return {
    userId: idOf(created),
    organizationIds: events.filter((e) => e.type === 'organization.created').map(idOf),
  };
}

/** How many events of each type a list holds (the mix both variants of a comparison are sent). */
export function eventMix(events: readonly ClerkEvent[]): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const e of events) mix[e.type] = (mix[e.type] ?? 0) + 1;
  return mix;
}
