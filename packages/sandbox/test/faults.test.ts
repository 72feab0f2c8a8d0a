import { createClerkClient } from '@clerk/backend';
import { IncomingWebhook } from '@slack/webhook';
import { Resend } from 'resend';
import { clerkFault, droppedResponse, resendFault, salesforceFault, slackFault } from '../src/faults';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';
import { connectSandboxSalesforce } from './salesforce-harness';

const ADA = 'user_2adaLovelace0Seed0000000001';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox();
});
afterEach(() => sandbox.reset());
afterAll(() => sandbox.close());

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('fault injection', () => {
  it('fails N calls, then lets them through; the call log shows each answer', async () => {
    const clerk = createClerkClient({
      secretKey: sandbox.env.CLERK_SECRET_KEY,
      apiUrl: sandbox.env.CLERK_API_URL,
    });
    const id = sandbox.faults.add(clerkFault('service_unavailable', { path: `/v1/users/${ADA}`, times: 2 }));

    const outcomes: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(
        await clerk.users.getUser(ADA).then(
          (u) => u.firstName,
          (e: { status: number }) => e.status,
        ),
      );
    }
    expect(outcomes).toEqual([503, 503, 'Ada']);
    expect(sandbox.calls('clerk').map((c) => [c.status, c.faultId])).toEqual([
      [503, id],
      [503, id],
      [200, undefined],
    ]);
    expect(sandbox.faults.list()).toEqual([]);
  });

  it('does not apply a faulted call', async () => {
    const resend = new Resend(sandbox.env.RESEND_API_KEY, { baseUrl: sandbox.env.RESEND_BASE_URL });
    sandbox.faults.add(resendFault('application_error', { method: 'POST', path: '/emails', times: 1 }));
    const email = { from: 'a@example.com', to: 'b@example.com', subject: 'Hi', text: 'Hi' };

    const failed = await resend.emails.send(email, { idempotencyKey: 'once' });
    expect(failed.error).toMatchObject({ statusCode: 500, name: 'application_error' });
    expect(sandbox.services.resend.emails()).toHaveLength(0);

    const retried = await resend.emails.send(email, { idempotencyKey: 'once' });
    expect(retried.error).toBeNull();
    expect(sandbox.services.resend.emails()).toHaveLength(1);
  });

  it('adds latency and then runs the service', async () => {
    sandbox.faults.add({ service: 'slack', latencyMs: 150, times: 1 });
    await new IncomingWebhook(sandbox.env.SLACK_WEBHOOK_URL).send({ text: 'slow' });
    const [call] = sandbox.calls('slack');
    expect(call?.status).toBe(200);
    expect(call?.durationMs).toBeGreaterThanOrEqual(149);
    expect(sandbox.services.slack.messages()).toHaveLength(1);
  });

  it('hangs until the client gives up, and logs the call as aborted', async () => {
    sandbox.faults.add({ service: 'clerk', path: '/v1/users/count', hang: true });
    const res = fetch(`${sandbox.env.CLERK_API_URL}/v1/users/count`, {
      headers: { authorization: `Bearer ${sandbox.env.CLERK_SECRET_KEY}` },
      signal: AbortSignal.timeout(200),
    });
    await expect(res).rejects.toThrow(expect.objectContaining({ name: 'TimeoutError' }));
    await waitUntil(() => sandbox.calls('clerk').length === 1);
    expect(sandbox.calls('clerk')[0]).toMatchObject({ aborted: true, status: 0 });
  });

  it('hits about `probability` of the calls in a storm, and logs every one it hit', async () => {
    sandbox.faults.add(slackFault('internal_error', { probability: 0.3 }));
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () =>
        fetch(sandbox.env.SLACK_WEBHOOK_URL, { method: 'POST', body: '{"text":"storm"}' }).then(
          (r) => r.status,
        ),
      ),
    );
    const failed = statuses.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(160);
    expect(sandbox.calls('slack').filter((c) => c.faultId !== undefined)).toHaveLength(failed);
    expect(sandbox.services.slack.messages()).toHaveLength(300 - failed);
    expect(sandbox.faults.list()[0]?.hits).toBe(failed);
  });

  it("answers with Salesforce's error shape and status", async () => {
    sandbox.faults.add(salesforceFault('UNABLE_TO_LOCK_ROW', { method: 'PATCH', path: '^/services/data/' }));
    const res = await fetch(
      `${sandbox.env.SALESFORCE_LOGIN_URL}/services/data/v62.0/sobjects/Contact/Clerk_User_Id__c/u1`,
      {
        method: 'PATCH',
        body: '{}',
      },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual([
      {
        message: expect.stringContaining('unable to obtain exclusive access'),
        errorCode: 'UNABLE_TO_LOCK_ROW',
        fields: [],
      },
    ]);
  });

  it('switches a rule off at `until`, and refuses a rule without an effect', () => {
    sandbox.faults.add({ service: 'slack', status: 500, until: Date.now() - 1 });
    expect(sandbox.faults.list()).toEqual([]);
    expect(() => sandbox.faults.add({ service: 'slack' })).toThrow(/status, hang, latencyMs or dropResponse/);
    expect(() => sandbox.faults.add({ service: 'slack', status: 500, dropResponse: 'reset' })).toThrow(
      /cannot come with status or hang/,
    );
  });

  it('processes a call and then resets the connection: the email is sent, the client sees a failure', async () => {
    const resend = new Resend(sandbox.env.RESEND_API_KEY, { baseUrl: sandbox.env.RESEND_BASE_URL });
    const id = sandbox.faults.add(droppedResponse('resend', { method: 'POST', path: '/emails', times: 1 }));
    const email = { from: 'a@example.com', to: 'b@example.com', subject: 'Hi', text: 'Hi' };

    const lost = await resend.emails.send(email, { idempotencyKey: 'welcome/lost' });
    expect(lost.data).toBeNull();
    expect(lost.error).toMatchObject({ name: 'application_error', statusCode: null });
    expect(sandbox.services.resend.emails()).toHaveLength(1);
    expect(sandbox.calls('resend')).toEqual([
      expect.objectContaining({ faultId: id, status: 0, aborted: true, droppedStatus: 200 }),
    ]);

    // The retry under the same key gets the first email's id; nothing is sent twice.
    const retried = await resend.emails.send(email, { idempotencyKey: 'welcome/lost' });
    expect(retried.data?.id).toBe(sandbox.services.resend.emails()[0]?.id);
    expect(sandbox.services.resend.emails()).toHaveLength(1);

    // Without the key's memory (24 hours later) the same retry sends a second email.
    sandbox.services.resend.forgetIdempotencyKeys();
    await resend.emails.send(email, { idempotencyKey: 'welcome/lost' });
    expect(sandbox.services.resend.emails()).toHaveLength(2);
  });

  // Issue 17: "process, then drop the answer" for every service, through each one's own SDK.
  it('Salesforce: the record is written, jsforce sees the connection reset, the call log keeps the 201', async () => {
    const conn = await connectSandboxSalesforce(sandbox.env);
    const id = sandbox.faults.add(
      droppedResponse('salesforce', {
        method: 'POST',
        path: '/services/data/v62.0/sobjects/Account',
        times: 1,
      }),
    );

    const err = await conn
      .sobject('Account')
      .create({ Name: 'Written, answer lost' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(String((err as { code?: string }).code ?? err)).toMatch(/ECONNRESET|socket hang up|fetch failed/);
    expect(sandbox.services.salesforce.records('Account').map((r) => r.Name)).toContain(
      'Written, answer lost',
    );
    const [call] = sandbox.calls('salesforce').filter((c) => c.faultId === id);
    expect(call).toMatchObject({ status: 0, aborted: true, droppedStatus: 201 });
  });

  it('Clerk: the organization is created, the SDK sees a failure without a status, the call log keeps the 200', async () => {
    const clerk = createClerkClient({
      secretKey: sandbox.env.CLERK_SECRET_KEY,
      apiUrl: sandbox.env.CLERK_API_URL,
    });
    const id = sandbox.faults.add(
      droppedResponse('clerk', { method: 'POST', path: '/v1/organizations', times: 1 }),
    );

    const err = await clerk.organizations.createOrganization({ name: 'Answer lost', createdBy: ADA }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as { status?: unknown }).status).toBeUndefined();
    const { data } = await clerk.organizations.getOrganizationList({ query: 'Answer lost' });
    expect(data.map((o) => o.name)).toEqual(['Answer lost']);
    expect(sandbox.calls('clerk').filter((c) => c.faultId === id)).toEqual([
      expect.objectContaining({ status: 0, aborted: true, droppedStatus: 200 }),
    ]);
  });

  it('reset: a raw client sees the connection reset', async () => {
    sandbox.faults.add({ service: 'slack', dropResponse: 'reset', times: 1 });
    const err = await fetch(sandbox.env.SLACK_WEBHOOK_URL, { method: 'POST', body: '{"text":"lost"}' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(String((err as { cause?: { code?: string } }).cause?.code)).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    expect(sandbox.services.slack.messages()).toHaveLength(1);
  });

  it('hang: the call applies and no answer ever comes, until the client gives up', async () => {
    const added = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ service: 'resend', method: 'POST', path: '/emails', dropResponse: 'hang' }),
    });
    expect(added.status).toBe(201);
    const res = fetch(`${sandbox.env.RESEND_BASE_URL}/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.env.RESEND_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'a@example.com', to: 'b@example.com', subject: 'Hi', text: 'Hi' }),
      signal: AbortSignal.timeout(300),
    });
    await expect(res).rejects.toThrow(expect.objectContaining({ name: 'TimeoutError' }));
    expect(sandbox.services.resend.emails()).toHaveLength(1);
    await waitUntil(() => sandbox.calls('resend').length === 1);
    expect(sandbox.calls('resend')[0]).toMatchObject({ status: 0, aborted: true, droppedStatus: 200 });
  });
});
