import type { Connection } from 'jsforce';
import { SalesforceOrg } from '../src/salesforce/org';
import { SoqlEngine } from '../src/salesforce/soql';
import { createSandbox } from '../src/server';
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

interface CompositeResult {
  compositeResponse: { body: unknown; httpStatusCode: number; referenceId: string }[];
}

describe('Salesforce sandbox: URL and SOQL length limits', () => {
  beforeEach(() => sf.service.setDailyApiLimit(1_000));

  /** A query URL (what follows the instance URL) of exactly `length` characters, percent-encoded as sent. */
  function queryUrl(length: number): string {
    // encodeURIComponent keeps `'`, which fetch then sends as %27: encode it here so the length is the wire's.
    const encode = (text: string) => encodeURIComponent(text).replace(/'/g, '%27');
    const base = `/services/data/v62.0/query?q=${encode("SELECT Id FROM Contact WHERE LastName = '")}`;
    const tail = encode("'");
    return `${base}${'a'.repeat(length - base.length - tail.length)}${tail}`;
  }
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${sf.loginUrl}${path}`, { headers: { authorization: `Bearer ${conn.accessToken}`, ...headers } });

  it('answers a request-target over 16,384 characters 414, before authentication and without counting a call', async () => {
    const atLimit = await get(queryUrl(16_384));
    expect(atLimit.status).toBe(200);
    const over = await get(queryUrl(16_385));
    expect(over.status).toBe(414);
    expect(over.headers.get('content-type')).toBe('text/html');
    expect(await over.text()).toContain('414 Request-URI Too Large');
    expect(over.headers.get('sforce-limit-info')).toBeNull();
    expect(sf.service.apiUsage().used).toBe(1);
    expect((await fetch(`${sf.loginUrl}${queryUrl(20_000)}`)).status).toBe(414);
  });

  it('jsforce surfaces the 414 as an error: ERROR_HTTP_414, status in the message', async () => {
    const names = Array.from({ length: 800 }, (_, n) => `'Person number ${n}'`).join(', ');
    const err = await rejectionOf(conn.query(`SELECT Id FROM Contact WHERE LastName IN (${names})`));
    expect(err.errorCode).toBe('ERROR_HTTP_414');
    expect(err.message).toContain('HTTP status code: 414');
    expect(String(err.data)).toContain('414 Request-URI Too Large');
  });

  it('answers a header block over 16,384 bytes 431', async () => {
    expect((await get('/services/data/v62.0/limits', { 'x-padding': 'p'.repeat(16_000) })).status).toBe(200);
    expect((await get('/services/data/v62.0/limits', { 'x-padding': 'p'.repeat(17_000) })).status).toBe(431);
  });

  it('answers a Composite subrequest whose url is too long 414 URL_TOO_LONG; the others still run', async () => {
    const result = await conn.requestPost<CompositeResult>('/composite', {
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'account',
          body: { Name: 'Kept' },
        },
        { method: 'GET', url: queryUrl(16_385), referenceId: 'tooLong' },
        { method: 'GET', url: queryUrl(16_384), referenceId: 'atLimit' },
      ],
    });
    expect(result.compositeResponse.map((r) => [r.referenceId, r.httpStatusCode])).toEqual([
      ['account', 201],
      ['tooLong', 414],
      ['atLimit', 200],
    ]);
    expect(result.compositeResponse[1]!.body).toEqual([
      {
        errorCode: 'URL_TOO_LONG',
        message: 'The subrequest URL is 16385 characters long; the maximum is 16384.',
        fields: [],
      },
    ]);
    expect(sf.service.records('Account').map((a) => a.Name)).toEqual(['Kept']);

    const allOrNone = await conn.requestPost<CompositeResult>('/composite', {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'account',
          body: { Name: 'Rolled back' },
        },
        { method: 'GET', url: queryUrl(16_385), referenceId: 'tooLong' },
      ],
    });
    expect(allOrNone.compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 414]);
    expect(sf.service.records('Account').map((a) => a.Name)).toEqual(['Kept']);
  });

  it('applies the same limit to composite/batch subrequests', async () => {
    const result = await conn.requestPost<{ hasErrors: boolean; results: { statusCode: number }[] }>(
      '/composite/batch',
      {
        batchRequests: [
          { method: 'GET', url: queryUrl(16_385) },
          { method: 'GET', url: 'v62.0/limits' },
        ],
      },
    );
    expect(result.hasErrors).toBe(true);
    expect(result.results.map((r) => r.statusCode)).toEqual([414, 200]);
  });

  it('refuses a SOQL statement over 100,000 characters with MALFORMED_QUERY', () => {
    // Over REST such a statement cannot arrive (its URL is refused first), so this asks the engine directly.
    const engine = new SoqlEngine(new SalesforceOrg(false));
    const soql = (length: number) => {
      const head = "SELECT Id FROM Contact WHERE LastName = '";
      return `${head}${'a'.repeat(length - head.length - 1)}'`;
    };
    expect(engine.query(soql(100_000), { includeDeleted: false, apiVersion: 62 }).totalSize).toBe(0);
    expect(() => engine.query(soql(100_001), { includeDeleted: false, apiVersion: 62 })).toThrow(
      expect.objectContaining({
        status: 400,
        errorCode: 'MALFORMED_QUERY',
        message: 'SOQL statements cannot be longer than 100,000 characters',
      }),
    );
  });

  it('is what the whole sandbox serves: 414 from Salesforce, Node’s 431 at 16 KiB for the other services', async () => {
    const sandbox = await createSandbox();
    try {
      const salesforce = await fetch(`${sandbox.env.SALESFORCE_LOGIN_URL}${queryUrl(16_385)}`);
      expect(salesforce.status).toBe(414);
      const clerk = await fetch(`${sandbox.env.CLERK_API_URL}/v1/users?q=${'a'.repeat(16_500)}`, {
        headers: { authorization: `Bearer ${sandbox.env.CLERK_SECRET_KEY}` },
      });
      expect(clerk.status).toBe(431);
      expect(sandbox.calls('clerk').map((c) => c.status)).toEqual([431]);
    } finally {
      await sandbox.close();
    }
  });
});
