import type { Connection } from 'jsforce';
import {
  CompositePlan,
  firstRecord,
  inLists,
  SALESFORCE_LIMITS,
  SalesforceEngine,
  soql,
} from '../../src/activities/salesforce/engine';

// The Salesforce engine's rules, without Temporal or the sandbox: a recording connection stands in for jsforce and
// answers every subrequest 200 (queries with their pages, collections with one save result per record).

interface Sent {
  kind: 'composite' | 'request';
  body: unknown;
  url?: string;
  method?: string;
}

interface Sub {
  method: string;
  url: string;
  referenceId: string;
  body?: { records?: unknown[] } & Record<string, unknown>;
}

function recordingConnection(pages: Record<string, unknown[][]> = {}): { conn: Connection; sent: Sent[] } {
  const sent: Sent[] = [];
  const answer = (sub: Sub) => {
    if (sub.method === 'GET') {
      const [first = [], ...rest] = pages[sub.referenceId] ?? [[]];
      return {
        referenceId: sub.referenceId,
        httpStatusCode: 200,
        body: {
          done: rest.length === 0,
          records: first,
          nextRecordsUrl: rest.length ? `/services/data/v62.0/query/01g-${sub.referenceId}-1` : undefined,
        },
      };
    }
    if (sub.body?.records)
      return {
        referenceId: sub.referenceId,
        httpStatusCode: 200,
        body: sub.body.records.map((_, i) => ({ id: `a01${String(i).padStart(15, '0')}`, success: true })),
      };
    return {
      referenceId: sub.referenceId,
      httpStatusCode: 201,
      body: { id: '003000000000001AAA', success: true },
    };
  };
  const conn = {
    requestPost: (url: string, body: { compositeRequest: Sub[] }) => {
      // What goes on the wire: jsforce serialises the body (a reference made by the plan as its `@{…}` text).
      sent.push({ kind: 'composite', url, body: JSON.parse(JSON.stringify(body)) as unknown });
      return Promise.resolve({ compositeResponse: body.compositeRequest.map(answer) });
    },
    request: (req: { method: string; url: string; body?: string }) => {
      sent.push({
        kind: 'request',
        method: req.method,
        url: req.url,
        body: req.body && JSON.parse(req.body),
      });
      const more = /01g-(\w+)-(\d+)$/.exec(req.url);
      if (more) {
        const all = pages[more[1]!]!;
        const n = Number(more[2]);
        const done = n + 1 >= all.length;
        return Promise.resolve({
          records: all[n],
          done,
          nextRecordsUrl: done ? undefined : `/services/data/v62.0/query/01g-${more[1]}-${n + 1}`,
        });
      }
      const records = (JSON.parse(req.body ?? '{}') as { records: unknown[] }).records;
      return Promise.resolve(records.map(() => ({ success: true })));
    },
  } as unknown as Connection;
  return { conn, sent };
}

const compositeCalls = (sent: Sent[]) =>
  sent
    .filter((s) => s.kind === 'composite')
    .map((s) => (s.body as { compositeRequest: Sub[] }).compositeRequest);

describe('inLists: IN lists within the URL limit', () => {
  const build = (list: string) => `SELECT Id FROM Contact WHERE Clerk_User_Id__c IN ${list}`;

  it.each([
    ['no values', 0, 0],
    ['one value', 1, 1],
    ['200 ids fit one query', 200, 1],
    ['5,000 ids need several', 5000, Math.ceil((5000 * 46) / SALESFORCE_LIMITS.queryUrl)],
  ])('%s', (_label, n, queries) => {
    const values = Array.from(
      { length: n },
      (_, i) => `user_2abcdefghijklmnopqrstuvwx${String(i).padStart(5, '0')}`,
    );
    const out = inLists(values, build);
    expect(out.length).toBeGreaterThanOrEqual(Math.min(queries, 1));
    expect(out.length).toBeLessThanOrEqual(Math.max(queries, 1) + 1);
    for (const q of out) expect(encodeURIComponent(q).length).toBeLessThanOrEqual(SALESFORCE_LIMITS.queryUrl);
    // Every value once, in order.
    const listed = out.flatMap((q) => [...q.matchAll(/'([^']+)'/g)].map((m) => m[1]));
    expect(listed).toEqual(values);
  });

  it('escapes every value as a SOQL literal (quotes and backslashes)', () => {
    expect(inLists(["O'Connor", 'a\\b'], (l) => `X IN ${l}`)).toEqual([
      `X IN (${soql("O'Connor")}, ${soql('a\\b')})`,
    ]);
    expect(soql("O'Connor \\ x")).toBe("'O\\'Connor \\\\ x'");
  });

  it('counts a value once even when it is listed twice', () => {
    expect(inLists(['a', 'a', 'b'], (l) => `X IN ${l}`)).toEqual(["X IN ('a', 'b')"]);
  });
});

describe('CompositePlan sent by the engine', () => {
  it('cuts a plan into composite calls of at most 25, keeping each subrequest with what it references', async () => {
    const plan = new CompositePlan();
    for (let i = 0; i < 30; i += 1) {
      plan.query(`q${i}`, `SELECT Id FROM Contact WHERE Clerk_User_Id__c = 'u${i}'`);
      plan.update(`u${i}`, 'Contact', firstRecord(`q${i}`), { LastName: `L${i}` });
    }
    const { conn, sent } = recordingConnection();
    const engine = new SalesforceEngine(conn, '62.0');
    await engine.send(plan, { check: false });
    const calls = compositeCalls(sent);
    expect(calls.map((c) => c.length)).toEqual([24, 24, 12]);
    for (const call of calls) {
      const refs = new Set(call.map((s) => s.referenceId));
      for (const s of call) {
        const target = /@\{(\w+)\./.exec(s.url)?.[1];
        if (target) expect(refs.has(target)).toBe(true);
      }
    }
    expect(engine.calls).toBe(3);
  });

  it('refuses a group of dependent subrequests larger than one composite call', async () => {
    const plan = new CompositePlan().query('shared', 'SELECT Id FROM Contact');
    for (let i = 0; i < 25; i += 1) plan.update(`u${i}`, 'Contact', firstRecord('shared'), { LastName: 'x' });
    const { conn } = recordingConnection();
    await expect(new SalesforceEngine(conn, '62.0').send(plan)).rejects.toThrow(/26 dependent subrequests/);
  });

  it('reads every page of a query subrequest (nextRecordsUrl), each page one API call', async () => {
    const page = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ Id: `r${from + i}` }));
    const { conn, sent } = recordingConnection({ big: [page(2000, 0), page(2000, 2000), page(100, 4000)] });
    const engine = new SalesforceEngine(conn, '62.0');
    const res = await engine.send(new CompositePlan().query('big', 'SELECT Id FROM Clerk_Membership__c'));
    expect(res.records('big')).toHaveLength(4100);
    expect(sent.filter((s) => s.kind === 'request')).toHaveLength(2);
    expect(engine.calls).toBe(3);
  });

  it.each(['@{x}', '@{contactOlder.records[0].Id}', 'Ada @{ and @{more}'])(
    'never puts the literal %j in a composite body; writes it exactly right after, outside the composite',
    async (value) => {
      const { conn, sent } = recordingConnection();
      const plan = new CompositePlan()
        .create('contactCreate', 'Contact', { LastName: value, Clerk_User_Id__c: 'user_1' })
        .createMany('accounts', 'Account', [{ Name: value }, { Name: 'Plain' }]);
      await new SalesforceEngine(conn, '62.0').send(plan);
      const [composite] = compositeCalls(sent);
      expect(JSON.stringify(composite)).not.toContain('@{');
      // Same length, so Salesforce's field limits hold for the placeholder too.
      expect(composite![0]!.body!.LastName).toHaveLength(value.length);
      const followUp = sent.find((s) => s.kind === 'request')!;
      expect(followUp).toMatchObject({ method: 'PATCH' });
      expect(followUp.url).toMatch(/\/composite\/sobjects$/);
      expect((followUp.body as { records: Record<string, unknown>[] }).records).toEqual([
        { attributes: { type: 'Contact' }, Id: '003000000000001AAA', LastName: value },
        { attributes: { type: 'Account' }, Id: 'a01000000000000000', Name: value },
      ]);
    },
  );

  it('sends references made by the plan as references, in the URL and in bodies', async () => {
    const { conn, sent } = recordingConnection();
    const plan = new CompositePlan()
      .query('account', "SELECT Id FROM Account WHERE Clerk_Organization_Id__c = 'org_1'")
      .query('contact', "SELECT Id FROM Contact WHERE Clerk_User_Id__c = 'user_1'")
      .update('link', 'Contact', firstRecord('contact'), { AccountId: firstRecord('account') });
    await new SalesforceEngine(conn, '62.0').send(plan, { check: false });
    const [call] = compositeCalls(sent);
    expect(call![2]).toMatchObject({
      url: '/services/data/v62.0/sobjects/Contact/@{contact.records[0].Id}',
      body: { AccountId: '@{account.records[0].Id}' },
    });
    expect(sent.filter((s) => s.kind === 'request')).toHaveLength(0);
  });
});
