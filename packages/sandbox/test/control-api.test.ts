import { createClerkClient } from '@clerk/backend';
import type { CallRecord } from '../src/call-log';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox();
});
afterEach(() => sandbox.reset());
afterAll(() => sandbox.close());

interface State {
  clerk: { users: unknown[]; organizations: unknown[] };
  resend: unknown;
  slack: unknown;
  salesforce: unknown;
  faults: unknown[];
}

async function control<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sandbox.url}/_sandbox/${path}`, {
    method,
    ...(body !== undefined && {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

describe('control HTTP API under /_sandbox', () => {
  it('shows every service’s state', async () => {
    const { status, body } = await control<State>('GET', 'state');
    expect(status).toBe(200);
    expect(body.clerk.users).toHaveLength(4);
    expect(body.clerk.organizations).toHaveLength(2);
    expect(body.resend).toEqual({ emails: [] });
    expect(body.slack).toEqual({ messages: [] });
    expect(body.salesforce).toEqual(
      expect.objectContaining({ Contact: expect.any(Array), Account: expect.any(Array) }),
    );
    expect(body.faults).toEqual([]);
  });

  it('adds, lists and removes faults; the fault answers the client meanwhile', async () => {
    const added = await control<{ id: string }>('POST', 'faults', {
      service: 'slack',
      status: 503,
      body: 'service_unavailable',
      times: 5,
    });
    expect(added.status).toBe(201);
    expect((await control('GET', 'faults')).body).toEqual([
      expect.objectContaining({ id: added.body.id, service: 'slack', status: 503, times: 5, hits: 0 }),
    ]);

    const res = await fetch(sandbox.env.SLACK_WEBHOOK_URL, { method: 'POST', body: '{"text":"hi"}' });
    expect([res.status, await res.text()]).toEqual([503, 'service_unavailable']);

    expect((await control('DELETE', `faults/${added.body.id}`)).status).toBe(200);
    expect((await control('GET', 'faults')).body).toEqual([]);
  });

  it('refuses an invalid fault rule with 400', async () => {
    const { status, body } = await control('POST', 'faults', { service: 'nowhere', status: 500 });
    expect(status).toBe(400);
    expect(body.error).toMatch(/service/);
  });

  it('lists calls per service', async () => {
    const clerk = createClerkClient({
      secretKey: sandbox.env.CLERK_SECRET_KEY,
      apiUrl: sandbox.env.CLERK_API_URL,
    });
    await clerk.users.getUserList({ limit: 1 });
    const { body } = await control<CallRecord[]>('GET', 'calls?service=clerk');
    expect(body.map((c) => c.path).sort()).toEqual(['/v1/users', '/v1/users/count']);
    expect(body[0]).toEqual(
      expect.objectContaining({
        service: 'clerk',
        method: 'GET',
        status: 200,
        durationMs: expect.any(Number),
        at: expect.any(Number),
      }),
    );
    expect((await control('GET', 'calls?service=slack')).body).toEqual([]);
  });

  it('runs service actions, and resets everything to the seed', async () => {
    const created = await control('POST', 'clerk/createUser', {
      firstName: 'Barbara',
      lastName: 'Liskov',
      emailAddress: ['barbara@example.com'],
    });
    expect(created.body).toMatchObject({ type: 'user.created', data: { first_name: 'Barbara' } });
    expect((await control<State>('GET', 'state')).body.clerk.users).toHaveLength(5);

    const limit = await control('POST', 'salesforce/setDailyApiLimit', { max: 10 });
    expect(limit).toEqual({ status: 200, body: expect.objectContaining({ max: 10 }) });

    expect((await control('POST', 'clerk/updateUser', { id: 'user_nobody', firstName: 'X' })).status).toBe(
      404,
    );
    expect((await control('POST', 'clerk/teleport', {})).status).toBe(404);

    expect(await control('POST', 'resend/forgetIdempotencyKeys')).toEqual({
      status: 200,
      body: { forgotten: 0 },
    });
    const seeded = await control<{ ids: string[] }>('POST', 'salesforce/insert', {
      type: 'Contact',
      records: [{ LastName: 'Seeded', Clerk_User_Id__c: 'user_seeded' }],
    });
    expect(seeded).toEqual({ status: 200, body: { ids: [expect.stringMatching(/^003\w{15}$/)] } });
    expect(sandbox.services.salesforce.records('Contact')).toEqual([
      expect.objectContaining({ Id: seeded.body.ids[0], LastName: 'Seeded' }),
    ]);
    const refused = await control('POST', 'salesforce/insert', { type: 'Contact', records: [{}] });
    expect(refused).toEqual({
      status: 400,
      body: { error: 'insert: REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]' },
    });

    await control('POST', 'reset');
    expect((await control<State>('GET', 'state')).body.clerk.users).toHaveLength(4);
  });
});

describe('GET /_sandbox/env', () => {
  it('answers the environment that points a client at this sandbox, as `clerk-sync sandbox` prints it', async () => {
    const { status, body } = await control('GET', 'env');
    expect(status).toBe(200);
    expect(body).toEqual(sandbox.env);
  });
});
