import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'svix';
import type { ClerkEvent } from '../src/clerk';
import type { ScenarioName } from '../src/scenarios';
import { playScenario, runScenario, scenarioEvents, SCENARIOS } from '../src/scenarios';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';

const SECRET = `whsec_${Buffer.from('clerk-sync scenario receiver secret').toString('base64')}`;

let sandbox: Sandbox;
let server: Server;
let endpoint: string;
let received: ClerkEvent[] = [];

beforeAll(async () => {
  sandbox = await createSandbox();
  // A tiny product stand-in: verifies each delivery with svix, as the real endpoint does.
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = Buffer.concat(chunks);
        new Webhook(SECRET).verify(body, req.headers as Record<string, string>); // svix 2: verifies only
        const event = JSON.parse(body.toString('utf8')) as ClerkEvent;
        received.push(event);
        res
          .writeHead(202, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'started', workflowId: req.headers['svix-id'] }));
      } catch (err) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/clerk`;
});
beforeEach(() => {
  received = [];
  sandbox.reset();
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await sandbox.close();
});

const EXPECTED: Record<ScenarioName, string[]> = {
  'sign-up': ['user.created'],
  'join-org': ['user.created', 'organization.created', 'organizationMembership.created'],
  'role-change': [
    'user.created',
    'organization.created',
    'organizationMembership.created',
    'organizationMembership.updated',
  ],
  'leave-org': [
    'user.created',
    'organization.created',
    'organizationMembership.created',
    'organizationMembership.deleted',
  ],
  'delete-user': ['user.created', 'organization.created', 'organizationMembership.created', 'user.deleted'],
  'org-rename': ['organization.created', 'organization.updated'],
  'org-deleted': [
    'user.created',
    'organization.created',
    'organizationMembership.created',
    'organization.deleted',
  ],
};

describe('scenario driver', () => {
  it.each(Object.keys(SCENARIOS) as ScenarioName[])(
    '%s delivers its events in order, each verifiable with svix',
    async (name) => {
      const deliveries = await runScenario(sandbox, { endpoint, secret: SECRET }, name);
      expect(deliveries.map((d) => d.type)).toEqual(EXPECTED[name]);
      expect(deliveries.every((d) => d.status === 202)).toBe(true);
      expect(deliveries.map((d) => d.body)).toEqual(
        deliveries.map((d) => ({ status: 'started', workflowId: d.svixId })),
      );
      expect(new Set(deliveries.map((d) => d.svixId)).size).toBe(deliveries.length);
      expect(received.map((e) => e.type)).toEqual(EXPECTED[name]);
    },
  );

  it('changes the sandbox’s Clerk to match the events (role change)', async () => {
    const [, org, , change] = await runScenario(sandbox, { endpoint, secret: SECRET }, 'role-change');
    const orgId = (org!.event.data as { id: string }).id;
    const userId = (change!.event.data as { public_user_data: { user_id: string } }).public_user_data.user_id;
    expect(sandbox.services.clerk.store.getMembership(orgId, userId).role).toBe('org:admin');
  });

  it('acts on existing records when given their ids', async () => {
    const deliveries = await runScenario(sandbox, { endpoint, secret: SECRET }, 'leave-org', {
      userId: 'user_2graceHopper0Seed00000000002',
      organizationId: 'org_2bletchleyPark00Seed00000002',
    });
    expect(deliveries.map((d) => d.type)).toEqual(['organizationMembership.deleted']); // Grace is a seeded member
  });

  it('returns events without delivering them, for shuffled and repeated deliveries', () => {
    const events = scenarioEvents(sandbox, 'org-deleted');
    expect(events.map((e) => e.type)).toEqual(EXPECTED['org-deleted']);
    expect(received).toEqual([]);
    const orgId = (events[1]!.data as { id: string }).id;
    expect(() => sandbox.services.clerk.store.getOrganization(orgId)).toThrow(
      expect.objectContaining({ status: 404 }),
    );
  });

  it('plays a timeline: Clerk changes as each event comes up, including one that is left out', async () => {
    const roles: (string | null)[] = [];
    let membership: { orgId: string; userId: string } | undefined;
    const events = await playScenario(sandbox, 'role-change', (event) => {
      if (event.type === 'organizationMembership.created') {
        const data = event.data as { organization: { id: string }; public_user_data: { user_id: string } };
        membership = { orgId: data.organization.id, userId: data.public_user_data.user_id };
      }
      // What Clerk says at the moment each event is sent: nothing of what comes later.
      roles.push(
        membership
          ? sandbox.services.clerk.store.getMembership(membership.orgId, membership.userId).role
          : null,
      );
      return Promise.resolve(); // nothing is delivered: every webhook is lost, Clerk moves on all the same
    });
    expect(events.map((e) => e.type)).toEqual(EXPECTED['role-change']);
    expect(roles).toEqual([null, null, 'org:member', 'org:admin']);
    expect(received).toEqual([]);
  });

  it('runs custom steps', async () => {
    const deliveries = await runScenario(sandbox, { endpoint, secret: SECRET }, [
      (clerk) => clerk.updateUser('user_2adaLovelace0Seed0000000001', { lastName: 'King' }),
    ]);
    expect(deliveries[0]).toMatchObject({
      type: 'user.updated',
      status: 202,
      event: { data: { last_name: 'King' } },
    });
  });
});
