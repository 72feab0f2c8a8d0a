import { rejectionOf, useSalesforce } from './salesforce-harness';

const ctx = useSalesforce();

let acmeId: string;

beforeEach(async () => {
  acmeId = (await ctx.conn.sobject('Account').create({ Name: 'Acme', Clerk_Organization_Id__c: 'org_acme' }))
    .id!;
  const globexId = (
    await ctx.conn.sobject('Account').create({ Name: 'Globex', Clerk_Organization_Id__c: 'org_globex' })
  ).id!;
  const people = [
    {
      LastName: 'Lovelace',
      FirstName: 'Ada',
      Clerk_User_Id__c: 'user_ada',
      AccountId: acmeId,
      Email: 'ada@acme.test',
    },
    { LastName: 'Hopper', FirstName: 'Grace', Clerk_User_Id__c: 'user_grace', AccountId: globexId },
    { LastName: "O'Brien", Clerk_User_Id__c: 'user_ob', Clerk_Status__c: 'Deleted' },
  ];
  const results = await ctx.conn.sobject('Contact').create(people);
  await ctx.conn.sobject('Clerk_Membership__c').create([
    { Clerk_Membership_Id__c: 'mem_1', Contact__c: results[0]!.id, Account__c: acmeId, Role__c: 'org:admin' },
    {
      Clerk_Membership_Id__c: 'mem_2',
      Contact__c: results[1]!.id,
      Account__c: acmeId,
      Role__c: 'org:member',
    },
    {
      Clerk_Membership_Id__c: 'mem_3',
      Contact__c: results[1]!.id,
      Account__c: globexId,
      Role__c: 'org:member',
    },
  ]);
});

describe('Salesforce sandbox: SOQL', () => {
  it('selects parent fields through relationships, with attributes on every level', async () => {
    const result = await ctx.conn.query(
      "SELECT Id, Role__c, Contact__r.Clerk_User_Id__c, Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c WHERE Contact__r.Clerk_User_Id__c = 'USER_GRACE' ORDER BY Account__r.Name DESC",
    );
    expect(result.totalSize).toBe(2);
    expect(result.done).toBe(true);
    expect(
      result.records.map(
        (r) => (r.Account__r as { Clerk_Organization_Id__c: string }).Clerk_Organization_Id__c,
      ),
    ).toEqual(['org_globex', 'org_acme']);
    expect(result.records[0]).toEqual({
      attributes: {
        type: 'Clerk_Membership__c',
        url: expect.stringMatching(/^\/services\/data\/v62\.0\/sobjects\/Clerk_Membership__c\/a01/),
      },
      Id: expect.any(String),
      Role__c: 'org:member',
      Contact__r: {
        attributes: { type: 'Contact', url: expect.any(String) },
        Clerk_User_Id__c: 'user_grace',
      },
      Account__r: {
        attributes: { type: 'Account', url: expect.any(String) },
        Clerk_Organization_Id__c: 'org_globex',
      },
    });
  });

  it('returns null for a relationship with no parent', async () => {
    const [ob] = (await ctx.conn.query("SELECT Account.Name FROM Contact WHERE LastName = 'O\\'Brien'"))
      .records;
    expect(ob).toEqual({ attributes: expect.any(Object), Account: null });
  });

  it('filters with IN, NOT IN, LIKE, NOT, OR and null comparisons', async () => {
    const names = async (where: string): Promise<string[]> =>
      (
        await ctx.conn.query<{ LastName: string }>(
          `SELECT LastName FROM Contact WHERE ${where} ORDER BY LastName`,
        )
      ).records.map((r) => r.LastName);
    expect(await names("Clerk_User_Id__c IN ('user_ada', 'user_grace')")).toEqual(['Hopper', 'Lovelace']);
    expect(await names("Clerk_User_Id__c NOT IN ('user_ada')")).toEqual(['Hopper', "O'Brien"]);
    expect(await names("LastName LIKE 'lo%'")).toEqual(['Lovelace']);
    expect(await names('Email = null')).toEqual(['Hopper', "O'Brien"]);
    expect(await names("Clerk_Status__c != 'Deleted'")).toEqual(['Hopper', 'Lovelace']); // != keeps nulls
    expect(await names("NOT (FirstName = 'Ada' OR FirstName = 'Grace')")).toEqual(["O'Brien"]);
    expect(
      await names(`(AccountId = '${acmeId.slice(0, 15)}' OR Account.Name = 'Globex') AND Email != null`),
    ).toEqual(['Lovelace']);
    expect(await names(`CreatedDate > 2000-01-01T00:00:00Z AND IsDeleted = false`)).toHaveLength(3);
  });

  it('finds with jsforce conditions, sort, limit and offset', async () => {
    const contacts = await ctx.conn
      .sobject('Contact')
      .find({ Clerk_User_Id__c: { $in: ['user_ada', 'user_grace', 'user_ob'] } }, ['LastName'], {
        sort: { LastName: -1 },
        limit: 2,
        offset: 1,
      });
    expect(contacts.map((c) => c.LastName)).toEqual(['Lovelace', 'Hopper']);
    expect(await ctx.conn.sobject('Clerk_Membership__c').count({ Account__c: acmeId })).toBe(2);
  });

  it('orders nulls first ascending and last descending unless told', async () => {
    const order = async (clause: string): Promise<(string | null)[]> =>
      (
        await ctx.conn.query<{ Email: string | null }>(`SELECT Email FROM Contact ORDER BY ${clause}`)
      ).records.map((r) => r.Email);
    expect((await order('Email ASC'))[0]).toBeNull();
    expect((await order('Email DESC'))[2]).toBeNull();
    expect((await order('Email DESC NULLS FIRST'))[0]).toBeNull();
  });

  it('pages through nextRecordsUrl and autoFetch, honouring Sforce-Query-Options batchSize', async () => {
    await ctx.conn.sobject('Contact').create(
      Array.from({ length: 200 }, (_, n) => ({ LastName: `Bulk ${n}` })),
      { allowRecursive: true },
    );
    await ctx.conn
      .sobject('Contact')
      .create(Array.from({ length: 150 }, (_, n) => ({ LastName: `More ${n}` })));
    const first = await ctx.conn.query('SELECT Id FROM Contact', {
      headers: { 'Sforce-Query-Options': 'batchSize=200' },
    });
    expect(first.totalSize).toBe(353);
    expect(first.records).toHaveLength(200);
    expect(first.done).toBe(false);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g\w+-200$/); // jsforce prefixes the instance URL
    const rest = await ctx.conn.queryMore(first.nextRecordsUrl!);
    expect(rest.records).toHaveLength(153);
    expect(rest.done).toBe(true);

    const all = await ctx.conn
      .query('SELECT Id FROM Contact', {
        autoFetch: true,
        headers: { 'Sforce-Query-Options': 'batchSize=200' },
      })
      .run({ autoFetch: true, maxFetch: 1000 });
    expect(all.records).toHaveLength(353);
    expect(new Set(all.records.map((r) => r.Id)).size).toBe(353);
  });

  it('counts with COUNT() and sees deleted rows only through queryAll', async () => {
    const [ada] = await ctx.conn.sobject('Contact').find({ Clerk_User_Id__c: 'user_ada' }, ['Id']);
    await ctx.conn.sobject('Contact').destroy(ada!.Id);
    expect((await ctx.conn.query('SELECT COUNT() FROM Contact')).totalSize).toBe(2);
    const all = await ctx.conn.query('SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true', {
      scanAll: true,
    });
    expect(all.records).toEqual([expect.objectContaining({ Id: ada!.Id, IsDeleted: true })]);
  });

  it.each([
    ['SELECT Nope__x FROM Contact', 'INVALID_FIELD', "No such column 'Nope__x' on entity 'Contact'"],
    ['SELECT Id FROM Contactz', 'INVALID_TYPE', "sObject type 'Contactz' is not supported"],
    ['SELECT Id FROM Contact WHERE', 'MALFORMED_QUERY', 'unexpected token'],
    [
      "SELECT Id FROM Contact WHERE LastName = 'a' AND LastName = 'b' OR LastName = 'c'",
      'MALFORMED_QUERY',
      "unexpected token: 'OR'",
    ],
    ["SELECT Id FROM Contact WHERE IsDeleted = 'true'", 'INVALID_FIELD', 'must be of type boolean'],
    [
      "SELECT Id FROM Contact WHERE AccountId = 'xyz'",
      'INVALID_QUERY_FILTER_OPERATOR',
      'invalid ID field: xyz',
    ],
    ['SELECT Bogus__r.Name FROM Contact', 'INVALID_FIELD', "Didn't understand relationship 'Bogus__r'"],
  ])('rejects %s with %s', async (soql, code, message) => {
    const err = await rejectionOf(ctx.conn.query(soql));
    expect(err.errorCode).toBe(code);
    expect(err.message).toContain(message);
    expect(err.message).toContain('ERROR at Row:1:Column:');
  });

  it('unescapes string literals and escapes LIKE wildcards', async () => {
    await ctx.conn.sobject('Account').create({ Name: '100% Pure_Co' });
    const exact = await ctx.conn.query("SELECT Name FROM Account WHERE Name LIKE '100\\% Pure\\_Co'");
    expect(exact.records).toEqual([expect.objectContaining({ Name: '100% Pure_Co' })]);
    const err = await rejectionOf(ctx.conn.query("SELECT Name FROM Account WHERE Name = 'a\\qb'"));
    expect(err.errorCode).toBe('MALFORMED_QUERY');
  });
});
