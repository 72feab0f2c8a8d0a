import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadFixture } from '../../src/local/fixtures';
import { startTestApi, testSecret } from '../helpers/api';
import { attachTemporal, uniqueTaskQueue } from '../helpers/temporal';

const OLD = testSecret();
const NEW = testSecret();
let env: TestWorkflowEnvironment;
let api: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  env = await attachTemporal();
  // During a rotation Clerk's dashboard shows the new secret while deliveries may still be signed with the old one.
  api = await startTestApi({
    client: env.client,
    taskQueue: uniqueTaskQueue('rotation'),
    secrets: [NEW, OLD],
  });
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

describe('signing-secret rotation', () => {
  test.each([
    ['the new secret', NEW],
    ['the old secret', OLD],
  ])('accepts a delivery signed with %s', async (_label, secret) => {
    const res = await api.postEvent(loadFixture('user.created'), { secret });
    expect(res).toMatchObject({ status: 202, body: { status: 'started' } });
    await env.client.workflow.getHandle(res.svixId).terminate('test done');
  });

  it('accepts a header carrying both signatures, as Svix sends during the 24 h overlap', async () => {
    const { signDelivery } = await import('@clerk-sync/sandbox');
    const body = JSON.stringify(loadFixture('user.created'));
    const at = new Date();
    const withOld = signDelivery(OLD, body, { at });
    const withNew = signDelivery(NEW, body, { at, svixId: withOld.svixId });
    const headers = {
      ...withOld.headers,
      'svix-signature': `${withNew.headers['svix-signature']} ${withOld.headers['svix-signature']}`,
    };
    const res = await fetch(`${api.url}/webhooks/clerk`, { method: 'POST', headers, body });
    expect(res.status).toBe(202);
    await env.client.workflow.getHandle(withOld.svixId).terminate('test done');
  });

  it('still rejects a secret that is not configured', async () => {
    const res = await api.postEvent(loadFixture('user.created'), { secret: testSecret() });
    expect(res.status).toBe(401);
  });
});
