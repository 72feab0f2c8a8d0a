import { SAMPLE_NAMES } from '@clerk-sync/sandbox';
import type { ClerkEvent, ClerkService } from '@clerk-sync/sandbox';
import { deliverWebhook, newSvixId } from '@clerk-sync/sandbox';
import { startStack, type Stack } from '../helpers/stack';

// SPEC "Order and repetition do not matter": for any delivery order of a scenario's events, with duplicates,
// Salesforce ends in the state the newest event of each record implies, and a deletion is final. Each scenario runs
// once in order (the expected state), then in seeded shuffled orders with replays and Svix retries, sequentially or
// all at once. Every run uses Clerk ids of its own; the sandbox's Clerk is already in the final state when the
// webhooks land, as real Clerk is when late deliveries arrive. CONVERGENCE_SEED=<n> explores other orders.

const SEED = Number(process.env.CONVERGENCE_SEED ?? 20261125);
const ORDERS_PER_SCENARIO = 5;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** mulberry32: a small seeded generator, so that names, orders and duplicates are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rand = () => number;
const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

/** One run of a scenario: ids, emails and slugs all carry `tag`, which the snapshot blanks out to `*`. */
class Run {
  constructor(
    readonly clerk: ClerkService,
    readonly tag: string,
  ) {}
  user = (label: string) => `user_${this.tag}${label}`;
  org = (label: string) => `org_${this.tag}${label}`;
  membership = (label: string) => `orgmem_${this.tag}${label}`;
  email = (user: string, p: Person) => `${p.first}.${p.last}.${user}.${this.tag}@example.com`.toLowerCase();
  slug = (base: string) => `${base}-${this.tag}`;
  join = (user: string, org: string, role: string, label = `${user}${org}`) =>
    this.clerk.addMembership({
      id: this.membership(label),
      organizationId: this.org(org),
      userId: this.user(user),
      role,
    });
}

interface Person {
  first: string;
  last: string;
}
interface Step {
  label: string;
  run: (r: Run) => ClerkEvent;
}
interface Scenario {
  name: string;
  users: string[];
  orgs: string[];
  steps: Step[];
  /** Orders (step numbers) delivered one after the other on every run besides the seeded ones. */
  orders?: number[][];
  /** What SPEC's event table implies for the final Clerk state (ids and emails with `*` for the run's tag). */
  outcome: Snapshot;
}

const { first: FIRST, last: LAST, organizations: ORGS } = SAMPLE_NAMES;
const ROLES = ['org:member', 'org:admin', 'org:billing'];

const person = (rand: Rand): Person => ({ first: pick(rand, FIRST), last: pick(rand, LAST) });
const slugOf = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const email = (user: string, p: Person) => `${p.first}.${p.last}.${user}.*@example.com`.toLowerCase();
const contact = (user: string, p: Person, status: string, account: string | null) => ({
  user: `user_*${user}`,
  FirstName: p.first,
  LastName: p.last,
  Email: email(user, p),
  Phone: null,
  status,
  account: account && `org_*${account}`,
});
const account = (org: string, name: string, status = 'Active') => ({
  org: `org_*${org}`,
  Name: name,
  slug: `${slugOf(name)}-*`,
  status,
});
const membership = (id: string, user: string, org: string, role: string) => ({
  id: `orgmem_*${id}`,
  role,
  user: `user_*${user}`,
  org: `org_*${org}`,
});

/** (a) sign-up, two renames, join A, promotion, join B, leave A; a second user joins B and stays. */
function lifecycle(rand: Rand): Scenario {
  const [u0, u0Renamed, u0Final, u1] = [person(rand), person(rand), person(rand), person(rand)];
  const renamed = { first: u0Renamed.first, last: u0.last };
  const final = { first: u0Renamed.first, last: u0Final.last };
  const [nameA, nameB] = [pick(rand, ORGS), `${pick(rand, ORGS)} II`];
  const roleB = pick(rand, ROLES);
  const phone = `+1555555${String(Math.floor(rand() * 9000) + 1000)}`;
  return {
    name: 'lifecycle',
    users: ['u0', 'u1'],
    orgs: ['A', 'B'],
    steps: [
      {
        label: 'organization.created A',
        run: (r) => r.clerk.createOrganization({ id: r.org('A'), name: nameA, slug: r.slug(slugOf(nameA)) }),
      },
      {
        label: 'organization.created B',
        run: (r) => r.clerk.createOrganization({ id: r.org('B'), name: nameB, slug: r.slug(slugOf(nameB)) }),
      },
      {
        label: 'user.created u0',
        run: (r) =>
          r.clerk.createUser({
            id: r.user('u0'),
            firstName: u0.first,
            lastName: u0.last,
            emailAddress: [r.email('u0', u0)],
            phoneNumber: [phone],
          }),
      },
      {
        label: 'user.updated u0 first name',
        run: (r) => r.clerk.updateUser(r.user('u0'), { firstName: renamed.first }),
      },
      {
        label: 'user.updated u0 last name, email, no phone',
        run: (r) =>
          r.clerk.updateUser(r.user('u0'), {
            lastName: final.last,
            emailAddress: [r.email('u0', final)],
            phoneNumber: [],
          }),
      },
      { label: 'organizationMembership.created u0 in A', run: (r) => r.join('u0', 'A', 'org:member') },
      {
        label: 'organizationMembership.updated u0 in A',
        run: (r) =>
          r.clerk.updateMembership({ organizationId: r.org('A'), userId: r.user('u0'), role: 'org:admin' }),
      },
      { label: 'organizationMembership.created u0 in B', run: (r) => r.join('u0', 'B', roleB) },
      {
        label: 'organizationMembership.deleted u0 in A',
        run: (r) => r.clerk.removeMembership({ organizationId: r.org('A'), userId: r.user('u0') }),
      },
      {
        label: 'user.created u1',
        run: (r) =>
          r.clerk.createUser({
            id: r.user('u1'),
            firstName: u1.first,
            lastName: u1.last,
            emailAddress: [r.email('u1', u1)],
          }),
      },
      { label: 'organizationMembership.created u1 in B', run: (r) => r.join('u1', 'B', 'org:member') },
    ],
    outcome: {
      contacts: [contact('u0', final, 'Active', 'B'), contact('u1', u1, 'Active', 'B')],
      accounts: [account('A', nameA), account('B', nameB)],
      memberships: [membership('u0B', 'u0', 'B', roleB), membership('u1B', 'u1', 'B', 'org:member')],
    },
  };
}

/** (b) two users join A; one is renamed, then deleted: Contact kept as Deleted without Account, memberships gone. */
function deletedUser(rand: Rand): Scenario {
  const [u0, u0Renamed, u1] = [person(rand), person(rand), person(rand)];
  const nameA = pick(rand, ORGS);
  return {
    name: 'deleted user',
    users: ['u0', 'u1'],
    orgs: ['A'],
    steps: [
      {
        label: 'organization.created A',
        run: (r) => r.clerk.createOrganization({ id: r.org('A'), name: nameA, slug: r.slug(slugOf(nameA)) }),
      },
      {
        label: 'user.created u0',
        run: (r) =>
          r.clerk.createUser({
            id: r.user('u0'),
            firstName: u0.first,
            lastName: u0.last,
            emailAddress: [r.email('u0', u0)],
          }),
      },
      {
        label: 'user.created u1',
        run: (r) =>
          r.clerk.createUser({
            id: r.user('u1'),
            firstName: u1.first,
            lastName: u1.last,
            emailAddress: [r.email('u1', u1)],
          }),
      },
      { label: 'organizationMembership.created u0 in A', run: (r) => r.join('u0', 'A', 'org:admin') },
      { label: 'organizationMembership.created u1 in A', run: (r) => r.join('u1', 'A', 'org:member') },
      {
        label: 'user.updated u0 name',
        run: (r) =>
          r.clerk.updateUser(r.user('u0'), { firstName: u0Renamed.first, lastName: u0Renamed.last }),
      },
      { label: 'user.deleted u0', run: (r) => r.clerk.deleteUser(r.user('u0')) },
    ],
    outcome: {
      // The Contact keeps the newest name Clerk sent; its email is the one of user.created (never changed).
      contacts: [
        { ...contact('u0', u0Renamed, 'Deleted', null), Email: email('u0', u0) },
        contact('u1', u1, 'Active', 'A'),
      ],
      accounts: [account('A', nameA)],
      memberships: [membership('u1A', 'u1', 'A', 'org:member')],
    },
  };
}

/** (c) an organization created, renamed (new slug), joined, then deleted; the member also belongs to D. */
function deletedOrganization(rand: Rand): Scenario {
  const u0 = person(rand);
  const [nameC, renamedC, nameD] = [
    pick(rand, ORGS),
    `${pick(rand, ORGS)} Renamed`,
    `${pick(rand, ORGS)} Dept`,
  ];
  return {
    name: 'deleted organization',
    users: ['u0'],
    orgs: ['C', 'D'],
    steps: [
      {
        label: 'user.created u0',
        run: (r) =>
          r.clerk.createUser({
            id: r.user('u0'),
            firstName: u0.first,
            lastName: u0.last,
            emailAddress: [r.email('u0', u0)],
          }),
      },
      {
        label: 'organization.created C',
        run: (r) => r.clerk.createOrganization({ id: r.org('C'), name: nameC, slug: r.slug(slugOf(nameC)) }),
      },
      {
        label: 'organization.updated C',
        run: (r) =>
          r.clerk.updateOrganization(r.org('C'), { name: renamedC, slug: r.slug(slugOf(renamedC)) }),
      },
      {
        label: 'organization.created D',
        run: (r) => r.clerk.createOrganization({ id: r.org('D'), name: nameD, slug: r.slug(slugOf(nameD)) }),
      },
      { label: 'organizationMembership.created u0 in C', run: (r) => r.join('u0', 'C', 'org:admin') },
      { label: 'organizationMembership.created u0 in D', run: (r) => r.join('u0', 'D', 'org:member') },
      { label: 'organization.deleted C', run: (r) => r.clerk.deleteOrganization(r.org('C')) },
    ],
    outcome: {
      contacts: [contact('u0', u0, 'Active', 'D')],
      accounts: [account('C', renamedC, 'Deleted'), account('D', nameD)],
      memberships: [membership('u0D', 'u0', 'D', 'org:member')],
    },
  };
}

/** (d) join A, leave A, join A again: Clerk gives the new membership a new id. */
function rejoin(rand: Rand): Scenario {
  const u0 = person(rand);
  const nameA = pick(rand, ORGS);
  const role = pick(rand, ROLES);
  return {
    name: 'rejoin',
    users: ['u0'],
    orgs: ['A'],
    steps: [
      {
        label: 'organization.created A',
        run: (r) => r.clerk.createOrganization({ id: r.org('A'), name: nameA, slug: r.slug(slugOf(nameA)) }),
      },
      {
        label: 'user.created u0',
        run: (r) =>
          r.clerk.createUser({
            id: r.user('u0'),
            firstName: u0.first,
            lastName: u0.last,
            emailAddress: [r.email('u0', u0)],
          }),
      },
      {
        label: 'organizationMembership.created u0 in A (1st)',
        run: (r) => r.join('u0', 'A', 'org:member', 'first'),
      },
      {
        label: 'organizationMembership.deleted u0 in A (1st)',
        run: (r) => r.clerk.removeMembership({ organizationId: r.org('A'), userId: r.user('u0') }),
      },
      {
        label: 'organizationMembership.created u0 in A (2nd)',
        run: (r) => r.join('u0', 'A', role, 'second'),
      },
    ],
    // Svix delivers concurrently: the new membership's webhook may well overtake the old one's deletion.
    orders: [[0, 1, 2, 4, 3]],
    outcome: {
      contacts: [contact('u0', u0, 'Active', 'A')],
      accounts: [account('A', nameA)],
      memberships: [membership('second', 'u0', 'A', role)],
    },
  };
}

/** One delivery of a plan: the first of an event, a replay under a new svix-id, or a Svix retry under the same one. */
interface Delivery {
  step: number;
  kind: 'first' | 'replay' | 'retry';
}
interface Plan {
  mode: 'sequential' | 'concurrent';
  deliveries: Delivery[];
}

/** A shuffled order of every step, with about a quarter of the events replayed and a quarter retried by Svix. */
function shuffledPlan(rand: Rand, steps: number, mode: Plan['mode']): Plan {
  const order = [...Array(steps).keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const deliveries: Delivery[] = order.map((step) => ({ step, kind: 'first' }));
  for (let step = 0; step < steps; step++) {
    if (rand() < 0.25)
      deliveries.splice(Math.floor(rand() * (deliveries.length + 1)), 0, { step, kind: 'replay' });
    if (rand() < 0.25) {
      const first = deliveries.findIndex((d) => d.step === step && d.kind === 'first');
      const at = first + 1 + Math.floor(rand() * (deliveries.length - first));
      deliveries.splice(at, 0, { step, kind: 'retry' });
    }
  }
  return { mode, deliveries };
}

/** `3 0 2+ 1 2=`: step numbers in delivery order; `+` a replay under a new svix-id, `=` a Svix retry of the same one. */
const describePlan = (plan: Plan) =>
  `${plan.mode} [${plan.deliveries.map((d) => `${d.step}${d.kind === 'replay' ? '+' : d.kind === 'retry' ? '=' : ''}`).join(' ')}]`;

interface Snapshot {
  contacts: {
    user: string;
    FirstName: unknown;
    LastName: unknown;
    Email: unknown;
    Phone: unknown;
    status: unknown;
    account: string | null;
  }[];
  accounts: { org: string; Name: unknown; slug: unknown; status: unknown }[];
  memberships: { id: string; role: unknown; user: string; org: string }[];
}

/** The scenario's records as a Salesforce user would read them, with the run's tag blanked out. */
async function snapshot(run: Run, scenario: Scenario): Promise<Snapshot> {
  const blank = <T>(v: T): T => (typeof v === 'string' ? (v.split(run.tag).join('*') as T) : v);
  const list = (ids: string[]) => ids.map((id) => `'${id}'`).join(', ');
  const users = list(scenario.users.map(run.user));
  const orgs = list(scenario.orgs.map(run.org));
  const sf = stack.salesforce;
  const [contacts, accounts, memberships] = await Promise.all([
    sf.query<Record<string, unknown> & { Account: { Clerk_Organization_Id__c: string } | null }>(
      `SELECT Clerk_User_Id__c, FirstName, LastName, Email, Phone, Clerk_Status__c, Account.Clerk_Organization_Id__c FROM Contact WHERE Clerk_User_Id__c IN (${users})`,
    ),
    sf.query<Record<string, unknown>>(
      `SELECT Clerk_Organization_Id__c, Name, Clerk_Slug__c, Clerk_Status__c FROM Account WHERE Clerk_Organization_Id__c IN (${orgs})`,
    ),
    sf.query<{
      Clerk_Membership_Id__c: string;
      Role__c: string;
      Contact__r: { Clerk_User_Id__c: string } | null;
      Account__r: { Clerk_Organization_Id__c: string } | null;
    }>(
      `SELECT Clerk_Membership_Id__c, Role__c, Contact__r.Clerk_User_Id__c, Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c ` +
        `WHERE Contact__r.Clerk_User_Id__c IN (${users}) OR Account__r.Clerk_Organization_Id__c IN (${orgs})`,
    ),
  ]);
  const byKey =
    <T>(key: (t: T) => string) =>
    (a: T, b: T) =>
      key(a).localeCompare(key(b));
  return {
    contacts: contacts.records
      .map((c) => ({
        user: blank(String(c.Clerk_User_Id__c)),
        FirstName: c.FirstName,
        LastName: c.LastName,
        Email: blank(c.Email),
        Phone: c.Phone ?? null,
        status: c.Clerk_Status__c,
        account: blank(c.Account?.Clerk_Organization_Id__c ?? null),
      }))
      .sort(byKey((c) => c.user)),
    accounts: accounts.records
      .map((a) => ({
        org: blank(String(a.Clerk_Organization_Id__c)),
        Name: a.Name,
        slug: blank(a.Clerk_Slug__c),
        status: a.Clerk_Status__c,
      }))
      .sort(byKey((a) => a.org)),
    memberships: memberships.records
      .map((m) => ({
        id: blank(m.Clerk_Membership_Id__c),
        role: m.Role__c,
        user: blank(m.Contact__r?.Clerk_User_Id__c ?? '(no Contact)'),
        org: blank(m.Account__r?.Clerk_Organization_Id__c ?? '(no Account)'),
      }))
      .sort(byKey((m) => m.id)),
  };
}

let runs = 0;
const tags = prng(SEED);

/** Makes the scenario's changes in the sandbox's Clerk (fresh ids), then delivers their events as `plan` says. */
async function play(scenario: Scenario, plan: Plan): Promise<{ run: Run; events: ClerkEvent[] }> {
  runs += 1;
  const run = new Run(stack.sandbox.services.clerk, `z${runs}${Math.floor(tags() * 36 ** 4).toString(36)}`);
  const events = scenario.steps.map((s) => s.run(run));
  const svixIds = events.map(() => newSvixId());
  const send = async (d: Delivery) => {
    const svixId = d.kind === 'replay' ? newSvixId() : svixIds[d.step]!;
    const res = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, events[d.step], {
      svixId,
    });
    return { svixId, status: res.status, answer: (res.body as { status?: string }).status };
  };
  const finish = (svixId: string) =>
    stack.env.client.workflow
      .getHandle(svixId)
      .result()
      .catch((err: unknown) => {
        const step =
          scenario.steps[svixIds.includes(svixId) ? svixIds.indexOf(svixId) : -1]?.label ?? 'a replay';
        throw new Error(
          `${describePlan(plan)}: the run of ${step} failed: ${String((err as { cause?: unknown }).cause ?? err)}`,
        );
      });

  const answers: Awaited<ReturnType<typeof send>>[] = [];
  if (plan.mode === 'sequential') {
    for (const d of plan.deliveries) {
      const a = await send(d);
      answers.push(a);
      if (a.answer === 'started') await finish(a.svixId);
    }
  } else {
    answers.push(...(await Promise.all(plan.deliveries.map(send))));
    await Promise.all(answers.filter((a) => a.answer === 'started').map((a) => finish(a.svixId)));
  }
  // Each svix-id starts exactly one run; its re-sends are answered `duplicate` and start nothing.
  const perSvixId = new Map<string, string[]>();
  for (const a of answers)
    perSvixId.set(a.svixId, [...(perSvixId.get(a.svixId) ?? []), a.answer ?? String(a.status)]);
  for (const [svixId, list] of perSvixId) {
    expect({ svixId, answers: list.sort() }).toEqual({
      svixId,
      answers: ['started', ...Array<string>(list.length - 1).fill('duplicate')].sort(),
    });
  }
  return { run, events };
}

/** SPEC "at most once per user, ever": whatever the order, no user gets two welcome emails. */
function expectAtMostOneWelcomeEmail(events: ClerkEvent[]): void {
  const addresses = events
    .filter((e) => e.type === 'user.created')
    .map(
      (e) => (e.data as { email_addresses: { email_address: string }[] }).email_addresses[0]!.email_address,
    );
  const sent = stack.sandbox.services.resend.emails();
  for (const address of addresses)
    expect({ address, emails: sent.filter((e) => e.to.includes(address)).length <= 1 }).toEqual({
      address,
      emails: true,
    });
}

const SCENARIOS = [lifecycle, deletedUser, deletedOrganization, rejoin].map((make, i) => {
  const scenario = make(prng(SEED * 31 + i));
  const rand = prng(SEED * 131 + i);
  const newestFirst = [...scenario.steps.keys()].reverse();
  const plans: Plan[] = [newestFirst, ...(scenario.orders ?? [])].map((order) => ({
    mode: 'sequential',
    deliveries: order.map((step) => ({ step, kind: 'first' })),
  }));
  for (let n = 0; n < ORDERS_PER_SCENARIO; n++) {
    plans.push(shuffledPlan(rand, scenario.steps.length, n % 2 === 0 ? 'sequential' : 'concurrent'));
  }
  return { scenario, plans };
});

describe.each(SCENARIOS)(`convergence (seed ${SEED}): $scenario.name`, ({ scenario, plans }) => {
  let expected: Snapshot | undefined;

  it(`in order, ${scenario.steps.map((s, i) => `${i} ${s.label}`).join('; ')}: what SPEC's event table implies`, async () => {
    const { run, events } = await play(scenario, {
      mode: 'sequential',
      deliveries: scenario.steps.map((_, step) => ({ step, kind: 'first' })),
    });
    const state = await snapshot(run, scenario);
    expect(state).toEqual(scenario.outcome);
    expected = state;
    expectAtMostOneWelcomeEmail(events);
  });

  it.each(plans.map((plan) => [describePlan(plan), plan] as const))(
    '%s ends as in order',
    async (_name, plan) => {
      const { run, events } = await play(scenario, plan);
      const state = await snapshot(run, scenario);
      expect({ order: describePlan(plan), state }).toEqual({
        order: describePlan(plan),
        state: expected ?? scenario.outcome,
      });
      expectAtMostOneWelcomeEmail(events);
    },
  );
});
