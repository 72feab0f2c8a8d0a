import { performance } from 'node:perf_hooks';
import { useSalesforce } from './salesforce-harness';

// Thousands of records: seeding them without HTTP, querying them through indexes, and paging at 2,000 rows.

const ctx = useSalesforce();

interface CompositeResult {
  compositeResponse: { body: unknown; httpStatusCode: number; referenceId: string }[];
}

/** 50 Accounts, 5,000 Contacts spread over them, 5,000 memberships (one per Contact, in another Account). */
function seed(): { accounts: string[]; contacts: string[]; memberships: string[] } {
  const accounts = ctx.sf.service.insert(
    'Account',
    Array.from({ length: 50 }, (_, n) => ({ Name: `Account ${n}`, Clerk_Organization_Id__c: `org_${n}` })),
  );
  const contacts = ctx.sf.service.insert(
    'Contact',
    Array.from({ length: 5_000 }, (_, n) => ({
      LastName: `Person ${n}`,
      Clerk_User_Id__c: `user_${n}`,
      AccountId: accounts[n % 50],
    })),
  );
  const memberships = ctx.sf.service.insert(
    'Clerk_Membership__c',
    Array.from({ length: 5_000 }, (_, n) => ({
      Clerk_Membership_Id__c: `orgmem_${n}`,
      Contact__c: contacts[n],
      Account__c: accounts[(n * 7) % 50],
      Role__c: 'org:member',
    })),
  );
  return { accounts, contacts, memberships };
}

/** The fastest of a few runs of a query through jsforce (HTTP included), in ms. */
async function timed(soql: string): Promise<{ ms: number; totalSize: number }> {
  let best = Infinity;
  let totalSize = 0;
  for (let n = 0; n < 3; n++) {
    const started = performance.now();
    totalSize = (await ctx.conn.query(soql)).totalSize;
    best = Math.min(best, performance.now() - started);
  }
  return { ms: best, totalSize };
}

describe('Salesforce sandbox: seeding thousands of records', () => {
  it('inserts 10,000 records without HTTP or API usage, with the checks of a REST create', () => {
    const started = performance.now();
    const { accounts, contacts, memberships } = seed();
    const ms = performance.now() - started;
    expect([accounts.length, contacts.length, memberships.length]).toEqual([50, 5_000, 5_000]);
    expect(contacts[0]).toMatch(/^003\w{15}$/);
    expect(ms).toBeLessThan(5_000); // ~0.4 s on a shared 2-core machine
    expect(ctx.sf.service.apiUsage().used).toBe(0);
    expect(ctx.sf.service.records('Clerk_Membership__c')[4_999]).toMatchObject({
      Clerk_Membership_Id__c: 'orgmem_4999',
      Contact__c: contacts[4_999],
      Name: 'CM-005000',
    });
  });

  it('is all or nothing: one invalid record throws its Salesforce error and none stay', () => {
    ctx.sf.service.insert('Contact', [{ LastName: 'Taken', Clerk_User_Id__c: 'user_taken' }]);
    let error: unknown;
    try {
      ctx.sf.service.insert('Contact', [
        { LastName: 'Fine', Clerk_User_Id__c: 'user_fine' },
        { LastName: 'Clash', Clerk_User_Id__c: 'user_taken' },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ errorCode: 'DUPLICATE_VALUE' });
    expect(ctx.sf.service.records('Contact').map((c) => c.LastName)).toEqual(['Taken']);
    expect(() => ctx.sf.service.insert('Nothing__c', [{}])).toThrow(/not supported/);
  });

  it('is a control action too', () => {
    const ids = ctx.sf.service.control.insert({ type: 'Account', records: [{ Name: 'Via control' }] });
    expect(ids).toEqual({ ids: [expect.stringMatching(/^001/)] });
    expect(() => ctx.sf.service.control.insert({ type: 'Account', records: [{}] })).toThrow(
      /^insert: REQUIRED_FIELD_MISSING: Required fields are missing: \[Name\]$/,
    );
    expect(() => ctx.sf.service.control.insert({ records: [] })).toThrow(/insert needs/);
  });
});

describe('Salesforce sandbox: queries over 10,000 rows use indexes', () => {
  it('answers lookups, parent lookups and IN lists in milliseconds', async () => {
    const { accounts, contacts } = seed();
    const account = accounts[3]!;
    const queries: [string, number][] = [
      [`SELECT Id FROM Clerk_Membership__c WHERE Account__c = '${account}'`, 100],
      [`SELECT Id FROM Contact WHERE AccountId = '${account.slice(0, 15)}'`, 100],
      [
        `SELECT Id, Contact__r.Clerk_User_Id__c FROM Clerk_Membership__c WHERE Contact__r.AccountId = '${account}'`,
        100,
      ],
      [
        `SELECT Id FROM Clerk_Membership__c WHERE Contact__c IN ('${contacts.slice(0, 150).join("','")}')`,
        150,
      ],
      [`SELECT Id FROM Contact WHERE Clerk_User_Id__c IN ('user_1', 'user_2', 'user_3')`, 3],
      [`SELECT Id FROM Clerk_Membership__c WHERE Account__r.Clerk_Organization_Id__c = 'org_3'`, 100],
    ];
    for (const [soql, expected] of queries) {
      const { ms, totalSize } = await timed(soql);
      expect({ soql, totalSize }).toEqual({ soql, totalSize: expected });
      // A few ms each here (HTTP and jsforce included); the bound only catches a slide into seconds.
      expect({ soql, fast: ms < 250 }).toEqual({ soql, fast: true });
    }
  });
});

describe('Salesforce sandbox: query pages of 2,000 rows', () => {
  beforeEach(() => {
    ctx.sf.service.insert(
      'Contact',
      Array.from({ length: 2_100 }, (_, n) => ({ LastName: `Paged ${String(n).padStart(4, '0')}` })),
    );
  });

  it('pages a top-level query: done:false with nextRecordsUrl, then the rest', async () => {
    const first = await ctx.conn.query('SELECT Id, LastName FROM Contact ORDER BY LastName');
    expect([first.totalSize, first.done, first.records.length]).toEqual([2_100, false, 2_000]);
    const rest = await ctx.conn.queryMore(first.nextRecordsUrl!);
    expect([rest.done, rest.records.length, rest.nextRecordsUrl]).toEqual([true, 100, undefined]);
    expect(rest.records[99]).toMatchObject({ LastName: 'Paged 2099' });
  });

  it('pages a Composite query subrequest the same way; its nextRecordsUrl is fetched with a GET', async () => {
    const result = await ctx.conn.requestPost<CompositeResult>('/composite', {
      compositeRequest: [
        {
          method: 'GET',
          url: `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id, LastName FROM Contact ORDER BY LastName')}`,
          referenceId: 'contacts',
        },
      ],
    });
    const [sub] = result.compositeResponse;
    expect(sub!.httpStatusCode).toBe(200);
    const page = sub!.body as {
      totalSize: number;
      done: boolean;
      nextRecordsUrl: string;
      records: unknown[];
    };
    expect([page.totalSize, page.done, page.records.length]).toEqual([2_100, false, 2_000]);
    expect(page.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g\w+-2000$/);

    const rest = await ctx.conn.request<{ done: boolean; records: { LastName: string }[] }>(
      page.nextRecordsUrl,
    );
    expect([rest.done, rest.records.length]).toEqual([true, 100]);
    expect(rest.records[0]!.LastName).toBe('Paged 2000');
  });
});
