import { Resend } from 'resend';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';

let sandbox: Sandbox;
let resend: Resend;

beforeAll(async () => {
  sandbox = await createSandbox();
  resend = new Resend(sandbox.env.RESEND_API_KEY, { baseUrl: sandbox.env.RESEND_BASE_URL });
});
afterEach(() => sandbox.reset());
afterAll(() => sandbox.close());

const welcome = {
  from: 'clerk-sync <welcome@example.com>',
  to: 'ada@analytical-engines.example',
  subject: 'Welcome, Ada',
  html: '<p>Welcome aboard</p>',
};

describe('Resend stand-in, through the resend SDK', () => {
  it('sends an email and records it', async () => {
    const { data, error } = await resend.emails.send(welcome);
    expect(error).toBeNull();
    expect(data?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sandbox.services.resend.emails()).toEqual([
      expect.objectContaining({
        id: data!.id,
        to: ['ada@analytical-engines.example'],
        subject: 'Welcome, Ada',
      }),
    ]);
    const fetched = await resend.emails.get(data!.id);
    expect(fetched.data).toMatchObject({
      id: data!.id,
      subject: 'Welcome, Ada',
      to: ['ada@analytical-engines.example'],
    });
  });

  it('sends once for the same Idempotency-Key and body, and answers the same id', async () => {
    const first = await resend.emails.send(welcome, { idempotencyKey: 'welcome/user_1' });
    const second = await resend.emails.send(welcome, { idempotencyKey: 'welcome/user_1' });
    expect(second.data?.id).toBe(first.data?.id);
    expect(sandbox.services.resend.emails()).toHaveLength(1);
    expect(sandbox.services.resend.emails()[0]?.idempotencyKey).toBe('welcome/user_1');
  });

  it('answers 409 invalid_idempotent_request for the same key with another body', async () => {
    await resend.emails.send(welcome, { idempotencyKey: 'welcome/user_2' });
    const { data, error } = await resend.emails.send(
      { ...welcome, subject: 'Hello again' },
      { idempotencyKey: 'welcome/user_2' },
    );
    expect(data).toBeNull();
    expect(error).toMatchObject({ statusCode: 409, name: 'invalid_idempotent_request' });
    expect(sandbox.services.resend.emails()).toHaveLength(1);
  });

  it('refuses an idempotency key longer than 256 characters', async () => {
    const { error } = await resend.emails.send(welcome, { idempotencyKey: 'k'.repeat(257) });
    expect(error).toMatchObject({ statusCode: 400, name: 'invalid_idempotency_key' });
  });

  it('validates the email like Resend', async () => {
    const noSubject = await resend.emails.send({ ...welcome, subject: '' });
    expect(noSubject.error).toMatchObject({ statusCode: 422, name: 'missing_required_field' });
    const badFrom = await resend.emails.send({ ...welcome, from: 'not an address' });
    expect(badFrom.error).toMatchObject({ statusCode: 422, name: 'validation_error' });
    expect(sandbox.services.resend.emails()).toHaveLength(0);
  });

  it('answers a wrong API key with 403 invalid_api_key', async () => {
    const wrong = new Resend('re_wrong', { baseUrl: sandbox.env.RESEND_BASE_URL });
    const { error } = await wrong.emails.send(welcome);
    expect(error).toMatchObject({ statusCode: 403, name: 'invalid_api_key' });
  });

  it('sends again for an old key once its 24 hours are over (forgetIdempotencyKeys)', async () => {
    const first = await resend.emails.send(welcome, { idempotencyKey: 'welcome/user_3' });
    expect(sandbox.services.resend.forgetIdempotencyKeys()).toBe(1);
    const again = await resend.emails.send(welcome, { idempotencyKey: 'welcome/user_3' });
    expect(again.error).toBeNull();
    expect(again.data?.id).not.toBe(first.data?.id);
    expect(sandbox.services.resend.emails().map((e) => e.id)).toEqual([first.data?.id, again.data?.id]);
    // The key is remembered again from then on; another body under it is a conflict once more.
    const conflict = await resend.emails.send(
      { ...welcome, subject: 'Other' },
      { idempotencyKey: 'welcome/user_3' },
    );
    expect(conflict.error).toMatchObject({ statusCode: 409 });

    const res = await fetch(`${sandbox.url}/_sandbox/resend/forgetIdempotencyKeys`, { method: 'POST' });
    expect([res.status, await res.json()]).toEqual([200, { forgotten: 1 }]);
    await resend.emails.send(welcome, { idempotencyKey: 'welcome/user_3' });
    expect(sandbox.services.resend.emails()).toHaveLength(3);
  });
});

describe('Resend stand-in: sending domains', () => {
  it('lists the seeded domains as verified, as GET /domains does', async () => {
    const { data, error } = await resend.domains.list();
    expect(error).toBeNull();
    expect(data?.data.map((d) => [d.name, d.status])).toEqual([
      ['example.com', 'verified'],
      ['acme.test', 'verified'],
    ]);
  });

  it('refuses a send from a listed domain that is not verified, and lists its status', async () => {
    const res = await fetch(`${sandbox.url}/_sandbox/resend/setDomain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'example.com', status: 'pending' }),
    });
    expect(res.status).toBe(200);
    const listed = await resend.domains.list();
    expect(listed.data?.data.find((d) => d.name === 'example.com')?.status).toBe('pending');
    const { error } = await resend.emails.send(welcome);
    expect(error).toMatchObject({
      name: 'validation_error',
      message: expect.stringMatching(/example\.com domain is not verified/),
    });
    expect(sandbox.services.resend.emails()).toEqual([]);

    sandbox.services.resend.setDomain('example.com', 'verified');
    expect((await resend.emails.send(welcome)).error).toBeNull();
  });

  it('answers a bad setDomain with 400', async () => {
    const res = await fetch(`${sandbox.url}/_sandbox/resend/setDomain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'example.com', status: 'sort of' }),
    });
    expect(res.status).toBe(400);
  });

  it('answers a wrong key on GET /domains as Resend does', async () => {
    const wrong = new Resend('re_wrong', { baseUrl: sandbox.env.RESEND_BASE_URL });
    const { error } = await wrong.domains.list();
    expect(error).toMatchObject({ name: 'invalid_api_key' });
  });
});
