import { randomBytes } from 'node:crypto';
import type { ClerkEvent, ClerkService } from './clerk';
import { newClerkId } from './clerk';
import { deliverWebhook } from './deliver';

/** The product's webhook endpoint (`…/webhooks/clerk`) and its `whsec_…` signing secret. */
export interface WebhookEndpoint {
  endpoint: string;
  secret: string;
}

/** One step: a change in the sandbox's Clerk, returning the event Clerk sends for it (none: nothing to do). */
export type ScenarioStep = (clerk: ClerkService) => ClerkEvent | undefined;

/** One delivered webhook and the product's answer. */
export interface ScenarioDelivery {
  svixId: string;
  type: ClerkEvent['type'];
  status: number;
  body: unknown;
  event: ClerkEvent;
}

/** Existing records a scenario may act on instead of creating its own. */
export interface ScenarioOptions {
  userId?: string;
  organizationId?: string;
}

/** Names of the scripted scenarios. */
export type ScenarioName =
  'sign-up' | 'join-org' | 'role-change' | 'leave-org' | 'delete-user' | 'org-rename' | 'org-deleted';

/** Anything that holds the Clerk stand-in (a `Sandbox`). */
export interface HasClerk {
  services: { clerk: ClerkService };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Katherine', 'Edsger', 'Barbara', 'Donald', 'Radia', 'Ken', 'Frances'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Johnson',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Perlman',
  'Thompson',
  'Allen',
];
const ORGS = [
  'Analytical Engines',
  'Difference Labs',
  'Enigma Works',
  'Compiler Co',
  'Relay Systems',
  'Punch Card Partners',
];

/** The names scenarios draw from; tests that script their own people use the same ones. */
export const SAMPLE_NAMES = { first: FIRST, last: LAST, organizations: ORGS } as const;

function pick<T>(list: readonly T[]): T {
  return list[randomBytes(1)[0]! % list.length]!;
}

/** A fresh, unique-looking person, so scenarios can run again and again against one sandbox. */
function newPerson(id: string): ScenarioStep {
  const first = pick(FIRST);
  const last = pick(LAST);
  const tag = randomBytes(3).toString('hex');
  return (clerk) =>
    clerk.createUser({
      id,
      firstName: first,
      lastName: last,
      username: `${first}.${last}.${tag}`.toLowerCase(),
      emailAddress: [`${first}.${last}.${tag}@example.com`.toLowerCase()],
    });
}

function newOrganization(id: string): ScenarioStep {
  const name = `${pick(ORGS)} ${randomBytes(2).toString('hex').toUpperCase()}`;
  return (clerk) => clerk.createOrganization({ id, name });
}

function alreadyMember(clerk: ClerkService, organizationId: string, userId: string): boolean {
  try {
    clerk.store.getMembership(organizationId, userId);
    return true;
  } catch {
    return false;
  }
}

/** The user and organization a scenario works with, plus the steps that create whichever is missing. */
function cast(options: ScenarioOptions) {
  const userId = options.userId ?? newClerkId('user');
  const organizationId = options.organizationId ?? newClerkId('org');
  const steps: ScenarioStep[] = [];
  if (!options.userId) steps.push(newPerson(userId));
  if (!options.organizationId) steps.push(newOrganization(organizationId));
  return { userId, organizationId, steps };
}

/** A member of an organization: the base of the membership, deletion and org scenarios. */
function joined(options: ScenarioOptions) {
  const { userId, organizationId, steps } = cast(options);
  const join: ScenarioStep = (clerk) =>
    alreadyMember(clerk, organizationId, userId)
      ? undefined
      : clerk.addMembership({ organizationId, userId, role: 'org:member' });
  return { userId, organizationId, steps: [...steps, join] };
}

/** The scripted scenarios: each creates what it needs, then makes its change; steps run in this order. */
export const SCENARIOS: Record<ScenarioName, (options?: ScenarioOptions) => ScenarioStep[]> = {
  'sign-up': (options = {}) => [newPerson(options.userId ?? newClerkId('user'))],

  'join-org': (options = {}) => joined(options).steps,

  'role-change': (options = {}) => {
    const { userId, organizationId, steps } = joined(options);
    return [...steps, (clerk) => clerk.updateMembership({ organizationId, userId, role: 'org:admin' })];
  },

  'leave-org': (options = {}) => {
    const { userId, organizationId, steps } = joined(options);
    return [...steps, (clerk) => clerk.removeMembership({ organizationId, userId })];
  },

  'delete-user': (options = {}) => {
    const { userId, steps } = joined(options);
    return [...steps, (clerk) => clerk.deleteUser(userId)];
  },

  'org-rename': (options = {}) => {
    const organizationId = options.organizationId ?? newClerkId('org');
    const rename: ScenarioStep = (clerk) =>
      clerk.updateOrganization(organizationId, {
        name: `${clerk.store.getOrganization(organizationId).name} (renamed)`,
      });
    return [...(options.organizationId ? [] : [newOrganization(organizationId)]), rename];
  },

  'org-deleted': (options = {}) => {
    const { organizationId, steps } = joined(options);
    return [...steps, (clerk) => clerk.deleteOrganization(organizationId)];
  },
};

function stepsOf(steps: ScenarioStep[] | ScenarioName, options?: ScenarioOptions): ScenarioStep[] {
  return typeof steps === 'string' ? SCENARIOS[steps](options) : steps;
}

/**
 * Plays the steps as a timeline: each step changes the sandbox's Clerk only when its turn comes, right before its
 * event goes to `send` (awaited before the next step), so Clerk never runs ahead of the webhooks sent so far, as in
 * real life. `send` may deliver the event, hold it, or leave it out (a webhook Clerk's change outlived).
 */
export async function playScenario(
  sandbox: HasClerk,
  steps: ScenarioStep[] | ScenarioName,
  send: (event: ClerkEvent) => Promise<void>,
  options?: ScenarioOptions,
): Promise<ClerkEvent[]> {
  const events: ClerkEvent[] = [];
  for (const step of stepsOf(steps, options)) {
    const event = step(sandbox.services.clerk);
    if (!event) continue;
    events.push(event);
    await send(event);
  }
  return events;
}

/**
 * Runs the steps against the sandbox's Clerk and delivers each event, correctly signed, to the product's
 * endpoint in order, one Svix message id per event; returns the deliveries with the product's answers.
 */
export async function runScenario(
  sandbox: HasClerk,
  target: WebhookEndpoint,
  steps: ScenarioStep[] | ScenarioName,
  options?: ScenarioOptions,
): Promise<ScenarioDelivery[]> {
  const deliveries: ScenarioDelivery[] = [];
  await playScenario(
    sandbox,
    steps,
    async (event) => {
      const res = await deliverWebhook(target.endpoint, target.secret, event);
      deliveries.push({ svixId: res.svixId, type: event.type, status: res.status, body: res.body, event });
    },
    options,
  );
  return deliveries;
}

/**
 * Applies every step to the sandbox's Clerk at once and returns their events without delivering them: Clerk is in
 * its final state before the first event arrives (see `playScenario` for a timeline).
 */
export function scenarioEvents(
  sandbox: HasClerk,
  steps: ScenarioStep[] | ScenarioName,
  options?: ScenarioOptions,
): ClerkEvent[] {
  return stepsOf(steps, options).flatMap((step) => step(sandbox.services.clerk) ?? []);
}
