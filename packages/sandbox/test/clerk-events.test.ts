import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClerkClient } from '@clerk/backend';
import { Webhook } from 'svix';
import type { ClerkEvent } from '../src/clerk';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';

const SECRET = `whsec_${Buffer.from('clerk-sync sandbox events test secret').toString('base64')}`;
const ADA = 'user_2adaLovelace0Seed0000000001';
const GRACE = 'user_2graceHopper0Seed00000000002';
const ANALYTICAL = 'org_2analyticalEngines0Seed000001';

/** A tiny Svix receiver: verifies every delivery with svix and answers the statuses queued in `answers`. */
function startReceiver() {
  const received: { event: ClerkEvent; headers: IncomingHttpHeaders }[] = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      try {
        const body = Buffer.concat(chunks);
        new Webhook(SECRET).verify(body, req.headers as Record<string, string>); // svix 2: verifies only
        const event = JSON.parse(body.toString('utf8')) as ClerkEvent;
        if (status < 300) received.push({ event, headers: req.headers });
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(401).end();
      }
    });
  });
  return new Promise<{
    url: string;
    received: typeof received;
    answers: number[];
    close: () => Promise<void>;
  }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/webhooks/clerk`,
        received,
        answers,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox();
});
afterEach(() => {
  sandbox.services.clerk.setWebhook(undefined);
  sandbox.reset();
});
afterAll(() => sandbox.close());

describe('Clerk mutators return the webhook event Clerk sends', () => {
  it('wraps data in Clerk’s envelope with a millisecond timestamp', () => {
    const event = sandbox.services.clerk.createUser({
      firstName: 'Edsger',
      lastName: 'Dijkstra',
      emailAddress: ['old@example.com', 'edsger@example.com'],
      primaryEmailAddress: 'edsger@example.com',
    });
    expect(event).toMatchObject({
      object: 'event',
      type: 'user.created',
      instance_id: expect.stringMatching(/^ins_/),
      event_attributes: { http_request: { client_ip: expect.any(String), user_agent: expect.any(String) } },
    });
    expect(event.timestamp).toBeGreaterThan(1e12);
    const user = event.data as {
      id: string;
      primary_email_address_id: string;
      email_addresses: { id: string }[];
    };
    expect(user.id).toMatch(/^user_[0-9A-Za-z]{27}$/);
    expect(user.primary_email_address_id).toBe(user.email_addresses[1]!.id);
  });

  it('sends the thin payloads for deletions, and the full membership for membership.deleted', () => {
    const clerk = sandbox.services.clerk;
    const left = clerk.removeMembership({ organizationId: ANALYTICAL, userId: GRACE });
    expect(left.type).toBe('organizationMembership.deleted');
    expect(left.data).toMatchObject({
      object: 'organization_membership',
      role: 'org:member',
      organization: { id: ANALYTICAL, name: 'Analytical Engines Ltd' },
      public_user_data: { user_id: GRACE, first_name: 'Grace', identifier: 'grace@cobol.example' },
    });

    expect(clerk.deleteUser(GRACE).data).toEqual({ deleted: true, id: GRACE, object: 'user' });
    expect(clerk.deleteUser('user_2alanTuring00Seed0000000004').data).toEqual({
      deleted: true,
      id: 'user_2alanTuring00Seed0000000004',
      object: 'user',
      external_id: 'emp-1912',
    });
    expect(clerk.deleteOrganization(ANALYTICAL).data).toEqual({
      deleted: true,
      id: ANALYTICAL,
      object: 'organization',
      slug: 'analytical-engines',
    });
  });

  it('moves updated_at forward on every change, so newer events can be told apart', () => {
    const clerk = sandbox.services.clerk;
    const a = clerk.updateMembership({ organizationId: ANALYTICAL, userId: GRACE, role: 'org:admin' });
    const b = clerk.updateMembership({ organizationId: ANALYTICAL, userId: GRACE, role: 'org:member' });
    const updatedAt = (e: ClerkEvent) => (e.data as { updated_at: number }).updated_at;
    expect(updatedAt(b)).toBeGreaterThan(updatedAt(a));
    expect(b.timestamp).toBeGreaterThan(a.timestamp);
    expect(b.data).toMatchObject({ role: 'org:member', role_name: 'Member' });
  });

  it('refuses what Clerk refuses: a second membership, an unknown user', () => {
    const clerk = sandbox.services.clerk;
    expect(() => clerk.addMembership({ organizationId: ANALYTICAL, userId: ADA })).toThrow(
      expect.objectContaining({ status: 400, code: 'already_a_member_in_organization' }),
    );
    expect(() => clerk.updateUser('user_nobody', { firstName: 'X' })).toThrow(
      expect.objectContaining({ status: 404 }),
    );
  });
});

describe('webhooks for Backend API mutations', () => {
  it('delivers organization.created and the creator’s membership, signed, after createOrganization', async () => {
    const receiver = await startReceiver();
    try {
      sandbox.services.clerk.setWebhook({ url: receiver.url, secret: SECRET });
      const api = createClerkClient({
        secretKey: sandbox.env.CLERK_SECRET_KEY,
        apiUrl: sandbox.env.CLERK_API_URL,
      });
      const org = await api.organizations.createOrganization({ name: 'Webhook Works', createdBy: ADA });
      await sandbox.services.clerk.webhooksIdle();

      expect(receiver.received.map((r) => r.event.type)).toEqual([
        'organization.created',
        'organizationMembership.created',
      ]);
      expect(receiver.received[0]!.event.data).toMatchObject({ id: org.id, name: 'Webhook Works' });
      expect(receiver.received[1]!.event.data).toMatchObject({
        role: 'org:admin',
        public_user_data: { user_id: ADA },
      });
      expect(receiver.received[0]!.headers['svix-id']).toMatch(/^msg_/);
    } finally {
      await receiver.close();
    }
  });

  it('retries a non-2xx answer with the same svix-id', async () => {
    const receiver = await startReceiver();
    try {
      receiver.answers.push(503, 500);
      sandbox.services.clerk.setWebhook({ url: receiver.url, secret: SECRET });
      const api = createClerkClient({
        secretKey: sandbox.env.CLERK_SECRET_KEY,
        apiUrl: sandbox.env.CLERK_API_URL,
      });
      await api.organizations.deleteOrganization(ANALYTICAL);
      await sandbox.services.clerk.webhooksIdle();

      const [delivery] = sandbox.services.clerk.webhookDeliveries();
      expect(delivery).toMatchObject({
        type: 'organization.deleted',
        state: 'delivered',
        attempts: 3,
        status: 200,
      });
      expect(receiver.received.map((r) => r.headers['svix-id'])).toEqual([delivery!.svixId]);
    } finally {
      await receiver.close();
    }
  });
});
