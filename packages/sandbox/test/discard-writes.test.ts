import type { Connection } from 'jsforce';
import { discardedWrites } from '../src/faults';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';
import { connectSandboxSalesforce } from './salesforce-harness';

// The `discardWrites` fault (issue 17's negative control): Salesforce answers a write as it always would, success
// included, and keeps none of it. A client cannot tell; only reading the records back shows the loss.

let sandbox: Sandbox;
let conn: Connection;

beforeAll(async () => {
  sandbox = await createSandbox();
  conn = await connectSandboxSalesforce(sandbox.env);
});
afterEach(() => sandbox.faults.clear());
afterAll(() => sandbox.close());

const names = () => sandbox.services.salesforce.records('Account').map((r) => r.Name);

describe('discardWrites', () => {
  it('answers a create with its new id and success, and the record is not there', async () => {
    const id = sandbox.faults.add(
      discardedWrites({ method: 'POST', path: /\/sobjects\/Account$/, times: 1 }),
    );
    const result = await conn.sobject('Account').create({ Name: 'Acknowledged, never applied' });
    expect(result).toMatchObject({ success: true, id: expect.stringMatching(/^001/) });
    expect(names()).not.toContain('Acknowledged, never applied');
    expect(sandbox.calls('salesforce').filter((c) => c.faultId === id)).toEqual([
      expect.objectContaining({ status: 201 }),
    ]);
    // The rule was used up: the next write is kept.
    await conn.sobject('Account').create({ Name: 'Kept' });
    expect(names()).toContain('Kept');
  });

  it('answers a Composite request in full (references resolved) and keeps none of its writes', async () => {
    const [existing] = await conn.sobject('Account').create([{ Name: 'Before' }]);
    sandbox.faults.add(discardedWrites({ method: 'POST', path: /\/composite$/, times: 1 }));
    const res = await conn.requestPost<{
      compositeResponse: { httpStatusCode: number; referenceId: string }[];
    }>('/services/data/v62.0/composite', {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'created',
          body: { Name: 'Composite, never applied' },
        },
        {
          method: 'PATCH',
          url: `/services/data/v62.0/sobjects/Account/${existing!.id!}`,
          referenceId: 'renamed',
          body: { Name: 'After' },
        },
        {
          method: 'GET',
          url: '/services/data/v62.0/sobjects/Account/@{created.id}?fields=Name',
          referenceId: 'read',
        },
      ],
    });
    expect(res.compositeResponse.map((r) => [r.referenceId, r.httpStatusCode])).toEqual([
      ['created', 201],
      ['renamed', 204],
      ['read', 200],
    ]);
    expect(names()).toEqual(expect.arrayContaining(['Before']));
    expect(names()).not.toEqual(expect.arrayContaining(['After']));
    expect(names()).not.toContain('Composite, never applied');
  });

  it('is set through the control API and shown on the page', async () => {
    const res = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'salesforce',
        method: 'POST',
        path: '/composite$',
        discardWrites: true,
      }),
    });
    expect(res.status).toBe(201);
    expect(sandbox.faults.list()).toEqual([
      expect.objectContaining({ service: 'salesforce', discardWrites: true, hits: 0 }),
    ]);
    expect(await (await fetch(sandbox.url)).text()).toContain('answered, writes discarded');
  });

  it('is refused for another service or together with an answer of its own', () => {
    expect(() => sandbox.faults.add({ service: 'resend', discardWrites: true })).toThrow(/Salesforce only/);
    expect(() => sandbox.faults.add({ ...discardedWrites(), status: 500 })).toThrow(/Salesforce only/);
  });
});
