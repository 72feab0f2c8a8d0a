import type { Connection } from 'jsforce';
import { rejectionOf, startSalesforce, type SalesforceHarness } from './salesforce-harness';

let sf: SalesforceHarness;
let conn: Connection;

beforeAll(async () => {
  sf = await startSalesforce({ dailyApiLimit: 5 });
});
afterAll(() => sf.close());
beforeEach(async () => {
  sf.service.reset();
  sf.service.setDailyApiLimit(5);
  conn = await sf.connect();
});

describe('Salesforce sandbox: API limits', () => {
  it('reports usage in Sforce-Limit-Info on every call, which jsforce parses', async () => {
    await conn.sobject('Account').create({ Name: 'Counted' });
    expect(conn.limitInfo.apiUsage).toEqual({ used: 1, limit: 5 });
    await conn.query('SELECT Id FROM Account');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 2, limit: 5 });
    expect(sf.service.snapshot().apiUsage).toEqual({ used: 2, max: 5 });
  });

  it('answers 403 REQUEST_LIMIT_EXCEEDED past the daily allocation', async () => {
    for (let n = 0; n < 5; n++) await conn.sobject('Account').create({ Name: `A${n}` });
    const err = await rejectionOf(conn.sobject('Account').create({ Name: 'One too many' }));
    expect(err.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(err.message).toBe('TotalRequests Limit exceeded.');
    expect(sf.service.records('Account')).toHaveLength(5);

    sf.service.setDailyApiLimit(10);
    const limits = await conn.limits();
    expect(limits.DailyApiRequests).toEqual({ Max: 10, Remaining: 4 });
  });

  it('is driven by the control actions the sandbox exposes', async () => {
    sf.service.control.setDailyApiLimit({ max: 1 });
    await conn.sobject('Account').create({ Name: 'Only one' });
    expect((await rejectionOf(conn.query('SELECT Id FROM Account'))).errorCode).toBe(
      'REQUEST_LIMIT_EXCEEDED',
    );
    sf.service.control.setApiUsage({ used: 0 });
    expect((await conn.query('SELECT Id FROM Account')).totalSize).toBe(1);
  });
});
