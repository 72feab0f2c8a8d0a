import { rejectionOf, useSalesforce } from './salesforce-harness';

const ctx = useSalesforce();

interface CompositeResult {
  compositeResponse: {
    body: unknown;
    httpHeaders: Record<string, string>;
    httpStatusCode: number;
    referenceId: string | null;
  }[];
}

describe('Salesforce sandbox: sObject Collections', () => {
  it('creates several records in one call, results in request order', async () => {
    const results = await ctx.conn
      .sobject('Contact')
      .create([{ LastName: 'A' }, { FirstName: 'no last name' }, { LastName: 'C' }]);
    expect(results).toEqual([
      { id: expect.stringMatching(/^003/), success: true, errors: [] },
      {
        success: false,
        errors: [
          {
            statusCode: 'REQUIRED_FIELD_MISSING',
            message: 'Required fields are missing: [LastName]',
            fields: ['LastName'],
          },
        ],
      },
      { id: expect.stringMatching(/^003/), success: true, errors: [] },
    ]);
    expect(ctx.sf.service.records('Contact').map((c) => c.LastName)).toEqual(['A', 'C']);
  });

  it('rolls back every record with allOrNone when one fails', async () => {
    const results = await ctx.conn
      .sobject('Contact')
      .create([{ LastName: 'A' }, { LastName: 'x'.repeat(81) }], { allOrNone: true });
    expect(results[0]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
          message:
            'Record rolled back because not all records were valid and the request was using AllOrNone header',
          fields: [],
        },
      ],
    });
    expect(results[1]!.errors[0]).toEqual(expect.objectContaining({ statusCode: 'STRING_TOO_LONG' }));
    expect(ctx.sf.service.records('Contact')).toEqual([]);
  });

  it('updates, upserts, retrieves and deletes through collections', async () => {
    const [a, b] = await ctx.conn.sobject('Account').create([{ Name: 'A' }, { Name: 'B' }]);
    const updated = await ctx.conn.sobject('Account').update([
      { Id: a!.id!, Website: 'https://a.test' },
      { Id: '001000000000000AAA', Website: 'https://nobody.test' },
    ]);
    expect(updated[0]).toEqual({ id: a!.id, success: true, errors: [] });
    expect((updated[1]!.errors[0] as { statusCode?: string }).statusCode).toBe('INVALID_CROSS_REFERENCE_KEY');

    const upserted = await ctx.conn.sobject('Account').upsert(
      [
        { Clerk_Organization_Id__c: 'org_1', Name: 'One' },
        { Clerk_Organization_Id__c: 'org_2', Name: 'Two' },
      ],
      'Clerk_Organization_Id__c',
    );
    expect(upserted).toEqual([
      { id: expect.stringMatching(/^001/), success: true, errors: [], created: true },
      { id: expect.stringMatching(/^001/), success: true, errors: [], created: true },
    ]);
    const again = await ctx.conn
      .sobject('Account')
      .upsert([{ Clerk_Organization_Id__c: 'org_1', Name: 'Uno' }], 'Clerk_Organization_Id__c');
    expect(again).toEqual([{ id: upserted[0]!.id, success: true, errors: [], created: false }]);

    const retrieved = await ctx.conn.sobject('Account').retrieve([a!.id!, b!.id!, '001000000000000AAA']);
    expect(retrieved.map((r) => (r ? (r.Name as string) : null))).toEqual(['A', 'B', null]);

    const deleted = await ctx.conn.sobject('Account').destroy([a!.id!, b!.id!]);
    expect(deleted.every((r) => r.success)).toBe(true);
    expect(ctx.sf.service.records('Account').map((r) => r.Name)).toEqual(['Uno', 'Two']);
  });

  it('refuses more than 200 records with EXCEEDED_ID_LIMIT', async () => {
    const err = await rejectionOf(
      ctx.conn.sobject('Contact').create(Array.from({ length: 201 }, (_, n) => ({ LastName: `N${n}` }))),
    );
    expect(err.errorCode).toBe('EXCEEDED_ID_LIMIT');
    expect(ctx.sf.service.records('Contact')).toEqual([]);
  });
});

describe('Salesforce sandbox: composite', () => {
  const composite = (body: object): Promise<CompositeResult> =>
    ctx.conn.requestPost<CompositeResult>('/composite', body);

  it('passes references between subrequests and counts as one API call', async () => {
    const before = ctx.sf.service.apiUsage().used;
    const result = await composite({
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        {
          method: 'PATCH',
          url: '/services/data/v62.0/sobjects/Account/Clerk_Organization_Id__c/org_c',
          referenceId: 'account',
          body: { Name: 'Composite Co' },
        },
        {
          method: 'PATCH',
          url: '/services/data/v62.0/sobjects/Contact/Clerk_User_Id__c/user_c',
          referenceId: 'contact',
          body: { LastName: 'Comp', AccountId: '@{account.id}' },
        },
        {
          method: 'GET',
          url: "/services/data/v62.0/query?q=SELECT+Id,Account.Name+FROM+Contact+WHERE+Clerk_User_Id__c='user_c'",
          referenceId: 'lookup',
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Clerk_Membership__c',
          referenceId: 'membership',
          body: {
            Contact__c: '@{lookup.records[0].Id}',
            Account__c: '@{account.id}',
            Clerk_Membership_Id__c: 'mem_c',
          },
        },
      ],
    });
    expect(result.compositeResponse.map((r) => [r.referenceId, r.httpStatusCode])).toEqual([
      ['account', 201],
      ['contact', 201],
      ['lookup', 200],
      ['membership', 201],
    ]);
    expect(result.compositeResponse[0]!.httpHeaders.Location).toMatch(
      /^\/services\/data\/v62\.0\/sobjects\/Account\/001/,
    );
    const [account] = ctx.sf.service.records('Account');
    expect(ctx.sf.service.records('Clerk_Membership__c')).toEqual([
      expect.objectContaining({ Account__c: account!.Id }),
    ]);
    expect(ctx.sf.service.apiUsage().used).toBe(before + 1);
  });

  it('rolls everything back with allOrNone and marks the rest PROCESSING_HALTED', async () => {
    const result = await composite({
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'ok',
          body: { Name: 'Kept?' },
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'bad',
          body: { FirstName: 'No last name' },
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'later',
          body: { Name: 'Never' },
        },
      ],
    });
    expect(result.compositeResponse.map((r) => [r.referenceId, r.httpStatusCode])).toEqual([
      ['ok', 400],
      ['bad', 400],
      ['later', 400],
    ]);
    expect(result.compositeResponse[0]!.body).toEqual([
      {
        errorCode: 'PROCESSING_HALTED',
        message: 'The transaction was rolled back since another operation in the same transaction failed.',
      },
    ]);
    expect(result.compositeResponse[1]!.body).toEqual([
      expect.objectContaining({ errorCode: 'REQUIRED_FIELD_MISSING' }),
    ]);
    expect(ctx.sf.service.records('Account')).toEqual([]);
  });

  it('keeps independent work without allOrNone and halts only dependants of a failure', async () => {
    const result = await composite({
      allOrNone: false,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v62.0/sobjects/Contact', referenceId: 'bad', body: {} },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'good',
          body: { Name: 'Kept' },
        },
        {
          method: 'PATCH',
          url: '/services/data/v62.0/sobjects/Contact/@{bad.id}',
          referenceId: 'dependant',
          body: { LastName: 'x' },
        },
      ],
    });
    expect(result.compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 201, 400]);
    expect(result.compositeResponse[2]!.body).toEqual([
      expect.objectContaining({
        errorCode: 'PROCESSING_HALTED',
        message: expect.stringContaining('Invalid reference specified'),
      }),
    ]);
    expect(ctx.sf.service.records('Account').map((a) => a.Name)).toEqual(['Kept']);
  });

  it('refuses more than 25 subrequests with LIMIT_EXCEEDED', async () => {
    const many = Array.from({ length: 26 }, (_, n) => ({
      method: 'POST',
      url: '/services/data/v62.0/sobjects/Account',
      referenceId: `a${n}`,
      body: { Name: `A${n}` },
    }));
    const result = await composite({ compositeRequest: many });
    expect(result.compositeResponse[0]!.body).toEqual([
      expect.objectContaining({ errorCode: 'LIMIT_EXCEEDED' }),
    ]);
    expect(ctx.sf.service.records('Account')).toEqual([]);
  });

  it('runs collections inside a composite transaction', async () => {
    const result = await composite({
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/composite/sobjects',
          referenceId: 'batch',
          body: { allOrNone: true, records: [{ attributes: { type: 'Account' }, Name: 'In collection' }] },
        },
        {
          method: 'DELETE',
          url: '/services/data/v62.0/sobjects/Account/@{batch[0].id}',
          referenceId: 'remove',
        },
        {
          method: 'DELETE',
          url: '/services/data/v62.0/sobjects/Account/@{batch[0].id}',
          referenceId: 'twice',
        },
      ],
    });
    expect(result.compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 400, 404]);
    expect(result.compositeResponse[2]!.body).toEqual([
      expect.objectContaining({ errorCode: 'ENTITY_IS_DELETED' }),
    ]);
    expect(ctx.sf.service.records('Account', { includeDeleted: true })).toEqual([]);
  });

  it('answers composite/batch with per-request results', async () => {
    const result = await ctx.conn.requestPost<{
      hasErrors: boolean;
      results: { statusCode: number; result: unknown }[];
    }>('/composite/batch', {
      haltOnError: true,
      batchRequests: [
        { method: 'POST', url: 'v62.0/sobjects/Account', richInput: { Name: 'Batch' } },
        { method: 'POST', url: 'v62.0/sobjects/Contact', richInput: {} },
        { method: 'GET', url: 'v62.0/limits' },
      ],
    });
    expect(result.hasErrors).toBe(true);
    expect(result.results.map((r) => r.statusCode)).toEqual([201, 400, 412]);
  });
});

describe("Salesforce sandbox: an org's validation rules and triggers", () => {
  it('reject only the writes they match, with FIELD_CUSTOM_VALIDATION_EXCEPTION, per subrequest', async () => {
    const { id } = await ctx.conn.sobject('Contact').create({ LastName: 'Rule' });
    const ruleId = ctx.sf.service.addValidationRule({
      object: 'Contact',
      on: 'update',
      field: 'AccountId',
      message: 'Contacts of key accounts cannot change account',
    });
    const res = await ctx.conn.requestPost<CompositeResult>('/composite', {
      allOrNone: false,
      compositeRequest: [
        {
          method: 'PATCH',
          url: `/services/data/v62.0/sobjects/Contact/${id}`,
          referenceId: 'name',
          body: { FirstName: 'Ok' },
        },
        {
          method: 'PATCH',
          url: `/services/data/v62.0/sobjects/Contact/${id}`,
          referenceId: 'account',
          body: { AccountId: null },
        },
      ],
    });
    expect(res.compositeResponse.map((r) => [r.referenceId, r.httpStatusCode, r.body])).toEqual([
      ['name', 204, null],
      [
        'account',
        400,
        [
          {
            errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
            message: 'Contacts of key accounts cannot change account',
            fields: ['AccountId'],
          },
        ],
      ],
    ]);
    expect(ctx.sf.service.records('Contact')[0]).toMatchObject({ FirstName: 'Ok' });

    expect(ctx.sf.service.removeValidationRule(ruleId)).toBe(true);
    await ctx.conn.sobject('Contact').update({ Id: id!, AccountId: null });
  });

  it('on delete (a trigger), and for a number of times only; the control API adds them too', async () => {
    const { id } = await ctx.conn.sobject('Contact').create({ LastName: 'Kept' });
    ctx.sf.service.control.addValidationRule({
      object: 'Contact',
      on: 'delete',
      errorCode: 'UNABLE_TO_LOCK_ROW',
      message: 'unable to obtain exclusive access to this record',
      times: 1,
    });
    expect(await rejectionOf(ctx.conn.sobject('Contact').destroy(id!))).toMatchObject({
      errorCode: 'UNABLE_TO_LOCK_ROW',
    });
    await ctx.conn.sobject('Contact').destroy(id!);
    expect(ctx.sf.service.records('Contact')).toEqual([]);
    expect(() =>
      ctx.sf.service.control.addValidationRule({ object: 'Contact', on: 'upsert', message: 'x' }),
    ).toThrow(/addValidationRule: on: /);
  });
});

describe('Salesforce sandbox: `@{…}` is a reference inside Composite only', () => {
  const LITERALS = ['@{x}', '@{contactOlder.records[0].Id}', '{!Name}', 'a @{x} and {!Name} b'];
  const composite = (body: object): Promise<CompositeResult> =>
    ctx.conn.requestPost<CompositeResult>('/composite', body);

  it('Composite substitutes a reference anywhere in a string of the url or the body, nested too', async () => {
    const result = await composite({
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'account',
          body: { Name: 'Referenced' },
        },
        {
          method: 'GET',
          url: "/services/data/v62.0/query?q=SELECT+Id,Name+FROM+Account+WHERE+Id='@{account.id}'",
          referenceId: 'found',
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/composite/sobjects',
          referenceId: 'contacts',
          body: {
            records: [
              {
                attributes: { type: 'Contact' },
                LastName: '@{found.records[0].Name}',
                Description: 'account @{account.id} (@{found.totalSize} found)',
                AccountId: '@{found.records[0].Id}',
              },
            ],
          },
        },
      ],
    });
    expect(result.compositeResponse.map((r) => r.httpStatusCode)).toEqual([201, 200, 200]);
    const [account] = ctx.sf.service.records('Account');
    expect(ctx.sf.service.records('Contact')).toEqual([
      expect.objectContaining({
        LastName: 'Referenced',
        Description: `account ${String(account!.Id)} (1 found)`,
        AccountId: account!.Id,
      }),
    ]);
  });

  it('Composite halts a subrequest whose string holds an unresolvable reference, even inside text', async () => {
    const result = await composite({
      allOrNone: false,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'account',
          body: { Name: 'Kept' },
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'contact',
          body: { LastName: 'Literal?', Description: 'costs @{x} today' },
        },
      ],
    });
    expect(result.compositeResponse.map((r) => r.httpStatusCode)).toEqual([201, 400]);
    expect(result.compositeResponse[1]!.body).toEqual([
      expect.objectContaining({
        errorCode: 'PROCESSING_HALTED',
        message: 'Invalid reference specified. No value for x found in x.',
      }),
    ]);
    expect(ctx.sf.service.records('Contact')).toEqual([]);
    expect(ctx.sf.service.records('Account').map((a) => a.Name)).toEqual(['Kept']);
  });

  it('sObject Collections called directly store `@{…}` and `{!…}` literally: create, update, upsert', async () => {
    const created = await ctx.conn
      .sobject('Contact')
      .create(LITERALS.map((text, n) => ({ LastName: `Literal ${n}`, Description: text })));
    expect(created.every((r) => r.success)).toBe(true);
    const ids = created.map((r) => r.id!);
    const read = async () =>
      (await ctx.conn.sobject('Contact').retrieve(ids)).map(
        (c) => (c as { Description?: unknown }).Description,
      );
    expect(await read()).toEqual(LITERALS);

    const reversed = [...LITERALS].reverse();
    await ctx.conn.sobject('Contact').update(ids.map((Id, n) => ({ Id, Description: reversed[n] })));
    expect(await read()).toEqual(reversed);

    const upserted = await ctx.conn.sobject('Contact').upsert(
      LITERALS.map((text, n) => ({ Clerk_User_Id__c: `user_literal_${n}`, LastName: text, Title: text })),
      'Clerk_User_Id__c',
    );
    expect(upserted.every((r) => r.success)).toBe(true);
    const soql = await ctx.conn.query<{ LastName: string; Title: string }>(
      "SELECT LastName, Title FROM Contact WHERE Clerk_User_Id__c LIKE 'user\\_literal\\_%' ORDER BY Clerk_User_Id__c",
    );
    expect(soql.records.map((r) => [r.LastName, r.Title])).toEqual(LITERALS.map((t) => [t, t]));
  });

  it('sObject Rows store them literally: POST, PATCH by id and upsert by External ID', async () => {
    const { id } = await ctx.conn.sobject('Contact').create({ LastName: '@{x}', Description: '{!Name}' });
    for (const text of LITERALS) {
      await ctx.conn.sobject('Contact').update({ Id: id!, Description: text, Title: text });
      const row = await ctx.conn.request<{ Description: string; Title: string }>(
        `/sobjects/Contact/${id}?fields=Description,Title`,
      );
      expect([row.Description, row.Title]).toEqual([text, text]);
    }
    await ctx.conn
      .sobject('Contact')
      .upsert(
        { Clerk_User_Id__c: 'user_row', LastName: '@{contactOlder.records[0].Id}' },
        'Clerk_User_Id__c',
      );
    expect(ctx.sf.service.records('Contact').map((c) => c.LastName)).toEqual([
      '@{x}',
      '@{contactOlder.records[0].Id}',
    ]);
  });
});
