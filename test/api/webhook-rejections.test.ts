import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadFixture } from '../../src/local/fixtures';
import { newSvixId, signDelivery } from '@clerk-sync/sandbox';
import { startTestApi, testSecret } from '../helpers/api';
import { attachTemporal, uniqueTaskQueue } from '../helpers/temporal';

const SECRET = testSecret();
let env: TestWorkflowEnvironment;
let api: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  env = await attachTemporal();
  api = await startTestApi({ client: env.client, taskQueue: uniqueTaskQueue('reject'), secrets: [SECRET] });
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

async function expectNothingStarted(svixId: string): Promise<void> {
  await expect(env.client.workflow.getHandle(svixId).describe()).rejects.toBeInstanceOf(
    WorkflowNotFoundError,
  );
}

async function post(body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(`${api.url}/webhooks/clerk`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

const event = () => JSON.stringify(loadFixture('user.created'));

describe('requests that must not start anything', () => {
  test.each(['svix-id', 'svix-timestamp', 'svix-signature'])('without %s: 400', async (missing) => {
    const d = signDelivery(SECRET, event());
    const headers: Record<string, string> = { ...d.headers };
    delete headers[missing];
    const res = await post(d.body, headers);
    expect(res).toEqual({
      status: 400,
      body: { error: { code: 'missing_headers', message: expect.any(String) } },
    });
    await expectNothingStarted(d.svixId);
  });

  it('a signature made with another secret: 401', async () => {
    const d = signDelivery(testSecret(), event());
    const res = await post(d.body, d.headers);
    expect(res).toEqual({
      status: 401,
      body: { error: { code: 'invalid_signature', message: 'No matching signature found' } },
    });
    await expectNothingStarted(d.svixId);
  });

  it('a body changed after signing (re-serialised JSON): 401', async () => {
    const d = signDelivery(SECRET, event());
    const res = await post(JSON.stringify(JSON.parse(d.body), null, 2), d.headers);
    expect(res.status).toBe(401);
    await expectNothingStarted(d.svixId);
  });

  test.each([
    ['6 minutes old', -6 * 60_000, 'Message timestamp too old'],
    ['6 minutes in the future', 6 * 60_000, 'Message timestamp too new'],
  ])('a timestamp %s: 401', async (_label, offset, message) => {
    const d = signDelivery(SECRET, event(), { at: new Date(Date.now() + offset) });
    const res = await post(d.body, d.headers);
    expect(res).toEqual({ status: 401, body: { error: { code: 'invalid_signature', message } } });
    await expectNothingStarted(d.svixId);
  });

  it('a timestamp header that is not a number: 400', async () => {
    const d = signDelivery(SECRET, event());
    const res = await post(d.body, { ...d.headers, 'svix-timestamp': 'yesterday' });
    expect(res.status).toBe(400);
    await expectNothingStarted(d.svixId);
  });

  it('a body over 1 MiB: 413, even when correctly signed', async () => {
    const big = JSON.stringify({ ...loadFixture('user.created'), padding: 'x'.repeat(1024 * 1024) });
    const d = signDelivery(SECRET, big);
    const res = await post(d.body, d.headers);
    expect(res).toEqual({
      status: 413,
      body: { error: { code: 'payload_too_large', message: 'Request body exceeds 1 MiB' } },
    });
    await expectNothingStarted(d.svixId);
  });

  it('a signed body that is not JSON: 400', async () => {
    const d = signDelivery(SECRET, 'this is not json');
    const res = await post(d.body, d.headers);
    expect(res).toEqual({
      status: 400,
      body: { error: { code: 'invalid_json', message: expect.any(String) } },
    });
    await expectNothingStarted(d.svixId);
  });

  test.each([
    ['without type', { data: { id: 'user_1' } }],
    ['without data', { type: 'user.created' }],
    ['with data that is not an object', { type: 'user.created', data: 'user_1' }],
    ['that is an array', [{ type: 'user.created', data: {} }]],
    ['that is null', null],
  ])('signed JSON %s: 400', async (_label, body) => {
    const d = signDelivery(SECRET, JSON.stringify(body));
    const res = await post(d.body, d.headers);
    expect(res).toEqual({
      status: 400,
      body: { error: { code: 'invalid_event', message: expect.any(String) } },
    });
    await expectNothingStarted(d.svixId);
  });

  it('another method or path: 404/405 with a JSON error', async () => {
    const get = await fetch(`${api.url}/webhooks/clerk`);
    expect(get.status).toBe(405);
    const other = await fetch(`${api.url}/webhooks/other`, { method: 'POST', body: '{}' });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({
      error: { code: 'not_found', message: 'No route for POST /webhooks/other' },
    });
  });

  it('counts each outcome in /metrics', async () => {
    const svixId = newSvixId();
    await post('{}', {
      'svix-id': svixId,
      'svix-timestamp': String(Math.floor(Date.now() / 1000)),
      'svix-signature': 'v1,AAAA',
    });
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toMatch(/clerk_sync_webhook_requests_total\{outcome="invalid_signature"\} [1-9]/);
    expect(text).toMatch(/clerk_sync_webhook_requests_total\{outcome="payload_too_large"\} 1/);
  });
});
