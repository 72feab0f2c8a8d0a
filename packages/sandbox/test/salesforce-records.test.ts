import { rejectionOf, useSalesforce } from './salesforce-harness';

const ctx = useSalesforce();

describe('Salesforce sandbox: records, upsert and validation', () => {
  it('creates, retrieves, updates and deletes a Contact with 18-char ids', async () => {
    const created = await ctx.conn.sobject('Contact').create({ LastName: 'Lovelace', FirstName: 'Ada' });
    expect(created).toEqual({ id: expect.stringMatching(/^003\w{15}$/), success: true, errors: [] });
    const id = created.id!;

    const byId = await ctx.conn.sobject('Contact').retrieve(id.slice(0, 15));
    expect(byId).toEqual(expect.objectContaining({ Id: id, Name: 'Ada Lovelace', IsDeleted: false }));
    expect(byId.attributes).toEqual({ type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${id}` });

    const modstamp = byId.SystemModstamp as string;
    expect(await ctx.conn.sobject('Contact').update({ Id: id, Email: 'ada@example.com' })).toEqual({
      id,
      success: true,
      errors: [],
    });
    const updated = await ctx.conn.request<Record<string, unknown>>(
      `/sobjects/Contact/${id}?fields=Email,SystemModstamp`,
    );
    expect(updated.Email).toBe('ada@example.com');
    expect(Date.parse(String(updated.SystemModstamp).replace('+0000', 'Z'))).toBeGreaterThan(
      Date.parse(modstamp.replace('+0000', 'Z')),
    );

    expect(await ctx.conn.sobject('Contact').destroy(id)).toEqual({ id, success: true, errors: [] });
    const again = await rejectionOf(ctx.conn.sobject('Contact').destroy(id));
    expect(again.errorCode).toBe('ENTITY_IS_DELETED');
    expect(ctx.sf.service.records('Contact')).toEqual([]);
    expect(ctx.sf.service.records('Contact', { includeDeleted: true })).toEqual([
      expect.objectContaining({ IsDeleted: true }),
    ]);
  });

  it('answers 404 NOT_FOUND for an unknown id or type', async () => {
    const missing = await rejectionOf(ctx.conn.sobject('Contact').retrieve('003000000000000AAA'));
    expect(missing.errorCode).toBe('NOT_FOUND');
    const badType = await rejectionOf(ctx.conn.sobject('Bogus__c').create({ Name: 'x' }));
    expect(badType.errorCode).toBe('NOT_FOUND');
  });

  it('upserts on an External ID: 201 created, then 200 updated', async () => {
    const contacts = ctx.conn.sobject('Contact');
    const first = await contacts.upsert(
      { Clerk_User_Id__c: 'user_1', LastName: 'Hopper' },
      'Clerk_User_Id__c',
    );
    expect(first).toEqual({ id: expect.stringMatching(/^003/), success: true, errors: [], created: true });
    const second = await contacts.upsert(
      { Clerk_User_Id__c: 'user_1', LastName: 'Hopper', FirstName: 'Grace' },
      'Clerk_User_Id__c',
    );
    expect(second).toEqual({ id: first.id, success: true, errors: [], created: false });
    expect(ctx.sf.service.records('Contact')).toEqual([
      expect.objectContaining({
        Id: first.id,
        FirstName: 'Grace',
        LastName: 'Hopper',
        Clerk_User_Id__c: 'user_1',
      }),
    ]);
  });

  it('answers 204 without `created` for an upsert update before API 46.0', async () => {
    const old = await ctx.sf.connect({ version: '45.0' });
    await old
      .sobject('Account')
      .upsert({ Clerk_Organization_Id__c: 'org_1', Name: 'Acme' }, 'Clerk_Organization_Id__c');
    const updated = await old
      .sobject('Account')
      .upsert({ Clerk_Organization_Id__c: 'org_1', Name: 'Acme 2' }, 'Clerk_Organization_Id__c');
    expect(updated).toEqual({ success: true, errors: [] });
  });

  it('rejects a duplicate External ID with DUPLICATE_VALUE naming the 15-char id', async () => {
    const { id } = await ctx.conn
      .sobject('Contact')
      .create({ LastName: 'One', Clerk_User_Id__c: 'user_dup' });
    const err = await rejectionOf(
      ctx.conn.sobject('Contact').create({ LastName: 'Two', Clerk_User_Id__c: 'user_dup' }),
    );
    expect(err.errorCode).toBe('DUPLICATE_VALUE');
    expect(err.message).toBe(
      `duplicate value found: Clerk_User_Id__c duplicates value on record with id: ${id!.slice(0, 15)}`,
    );
  });

  it('answers 300 MULTIPLE_CHOICES when a non-unique External ID matches several records', async () => {
    await ctx.conn.metadata.create('CustomField', {
      fullName: 'Contact.Legacy_Id__c',
      label: 'Legacy Id',
      type: 'Text',
      length: 40,
      externalId: true,
    });
    await ctx.conn.sobject('Contact').create([
      { LastName: 'A', Legacy_Id__c: 'L1' },
      { LastName: 'B', Legacy_Id__c: 'L1' },
    ]);
    const err = await rejectionOf(
      ctx.conn.sobject('Contact').upsert({ Legacy_Id__c: 'L1', LastName: 'C' }, 'Legacy_Id__c'),
    );
    expect(err.errorCode).toBe('MULTIPLE_CHOICES');
    expect(err.data).toEqual([
      expect.stringMatching(/^\/services\/data\/v62\.0\/sobjects\/Contact\/003/),
      expect.any(String),
    ]);
    expect(ctx.sf.service.records('Contact')).toHaveLength(2);
  });

  it('answers 404 NOT_FOUND for an upsert on a field that is not an External ID', async () => {
    const err = await rejectionOf(
      ctx.conn.sobject('Contact').upsert({ Email: 'a@b.co', LastName: 'X' }, 'Email'),
    );
    expect(err.errorCode).toBe('NOT_FOUND');
    expect(err.message).toBe('Provided external ID field does not exist or is not accessible: Email');
  });

  it.each([
    [
      'REQUIRED_FIELD_MISSING',
      'Contact',
      { FirstName: 'No last name' },
      'Required fields are missing: [LastName]',
    ],
    [
      'REQUIRED_FIELD_MISSING',
      'Account',
      { Website: 'https://acme.test' },
      'Required fields are missing: [Name]',
    ],
    ['STRING_TOO_LONG', 'Contact', { LastName: 'x'.repeat(81) }, 'Last Name: data value too large'],
    ['STRING_TOO_LONG', 'Contact', { LastName: 'Ok', FirstName: 'y'.repeat(41) }, '(max length=40)'],
    ['STRING_TOO_LONG', 'Account', { Name: 'n'.repeat(256) }, '(max length=255)'],
    ['STRING_TOO_LONG', 'Contact', { LastName: 'Ok', Clerk_Status__c: 's'.repeat(21) }, '(max length=20)'],
    [
      'INVALID_EMAIL_ADDRESS',
      'Contact',
      { LastName: 'Ok', Email: 'not-an-email' },
      'Email: invalid email address: not-an-email',
    ],
    [
      'INVALID_FIELD',
      'Contact',
      { LastName: 'Ok', Nickname: 'x' },
      "No such column 'Nickname' on sobject of type Contact",
    ],
    [
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      'Contact',
      { LastName: 'Ok', Name: 'x' },
      'Unable to create fields: Name.',
    ],
    [
      'MALFORMED_ID',
      'Contact',
      { LastName: 'Ok', AccountId: 'nope' },
      'Account ID: id value of incorrect type: nope',
    ],
    [
      'FIELD_INTEGRITY_EXCEPTION',
      'Contact',
      { LastName: 'Ok', AccountId: '003000000000000AAA' },
      'id value of incorrect type',
    ],
    [
      'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
      'Contact',
      { LastName: 'Ok', AccountId: '001000000000000AAA' },
      'cross-reference id',
    ],
  ])('rejects with %s (%s)', async (code, type, record, message) => {
    const err = await rejectionOf(ctx.conn.sobject(type).create(record));
    expect(err.errorCode).toBe(code);
    expect(err.message).toContain(message);
    expect(ctx.sf.service.records(type)).toEqual([]);
  });

  it('checks lookups: right type, live record; a deleted parent is ENTITY_IS_DELETED', async () => {
    const account = await ctx.conn.sobject('Account').create({ Name: 'Acme' });
    const contact = await ctx.conn.sobject('Contact').create({ LastName: 'Linked', AccountId: account.id });
    const membership = await ctx.conn.sobject('Clerk_Membership__c').create({
      Contact__c: contact.id,
      Account__c: account.id,
      Role__c: 'org:admin',
      Clerk_Membership_Id__c: 'orgmem_1',
    });
    expect(membership.success).toBe(true);
    expect(ctx.sf.service.records('Clerk_Membership__c')).toEqual([
      expect.objectContaining({ Name: 'CM-000001', Contact__c: contact.id, Account__c: account.id }),
    ]);
    const wrongType = await rejectionOf(
      ctx.conn.sobject('Clerk_Membership__c').create({ Contact__c: account.id }),
    );
    expect(wrongType.errorCode).toBe('FIELD_INTEGRITY_EXCEPTION');

    await ctx.conn.sobject('Account').destroy(account.id!);
    // Deleting an Account takes its Contacts with it; a plain lookup to it is cleared.
    expect(ctx.sf.service.records('Contact')).toEqual([]);
    expect(ctx.sf.service.records('Clerk_Membership__c')).toEqual([
      expect.objectContaining({ Account__c: null, Contact__c: null }),
    ]);
    const deleted = await rejectionOf(
      ctx.conn.sobject('Contact').create({ LastName: 'Late', AccountId: account.id }),
    );
    expect(deleted.errorCode).toBe('ENTITY_IS_DELETED');
  });

  it('sets a lookup through the parent External ID', async () => {
    const account = await ctx.conn
      .sobject('Account')
      .create({ Name: 'Acme', Clerk_Organization_Id__c: 'org_9' });
    await ctx.conn
      .sobject('Contact')
      .upsert(
        { Clerk_User_Id__c: 'user_9', LastName: 'Ref', Account: { Clerk_Organization_Id__c: 'org_9' } },
        'Clerk_User_Id__c',
      );
    expect(ctx.sf.service.records('Contact')).toEqual([expect.objectContaining({ AccountId: account.id })]);
  });

  it('accepts any undeclared __c field in non-strict mode and stores it as sent', async () => {
    const { id } = await ctx.conn.sobject('Contact').create({
      LastName: 'Extra',
      Welcome_Email_Sent__c: true,
      Clerk_Last_Applied_At__c: '2025-01-01T00:00:00.000Z',
    });
    const found = await ctx.conn.sobject('Contact').retrieve(id!);
    expect(found).toEqual(
      expect.objectContaining({
        Welcome_Email_Sent__c: true,
        Clerk_Last_Applied_At__c: '2025-01-01T00:00:00.000Z',
      }),
    );
  });

  it('describes objects with their fields for find() without a field list', async () => {
    await ctx.conn.sobject('Account').create({ Name: 'Described', Clerk_Slug__c: 'described' });
    const describe = await ctx.conn.sobject('Contact').describe();
    const names = describe.fields.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['Id', 'LastName', 'AccountId', 'Clerk_User_Id__c']));
    expect(describe.fields.find((f) => f.name === 'Clerk_User_Id__c')).toEqual(
      expect.objectContaining({
        externalId: true,
        unique: true,
        caseSensitive: true,
        custom: true,
        length: 255,
      }),
    );
    const accounts = await ctx.conn.sobject('Account').find({ Clerk_Slug__c: 'described' });
    expect(accounts).toEqual([expect.objectContaining({ Name: 'Described', Clerk_Status__c: null })]);
    const global = await ctx.conn.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).toEqual(
      expect.arrayContaining(['Account', 'Contact', 'Clerk_Membership__c']),
    );
  });
});

describe('Salesforce sandbox: External IDs honour caseSensitive', () => {
  const contactsByUserId = () =>
    ctx.sf.service
      .records('Contact')
      .map((c) => [c.Clerk_User_Id__c, c.LastName])
      .sort();

  it('case-sensitive (as setup creates them): ids differing in case are two records; upsert matches exactly', async () => {
    const contacts = ctx.conn.sobject('Contact');
    await contacts.create({ LastName: 'Mixed', Clerk_User_Id__c: 'user_Abc' });
    expect((await contacts.create({ LastName: 'Lower', Clerk_User_Id__c: 'user_abc' })).success).toBe(true);

    const exact = await contacts.upsert({ Clerk_User_Id__c: 'user_Abc', Title: 'Exact' }, 'Clerk_User_Id__c');
    expect(exact.created).toBe(false);
    const other = await contacts.upsert(
      { Clerk_User_Id__c: 'USER_ABC', LastName: 'Upper' },
      'Clerk_User_Id__c',
    );
    expect(other.created).toBe(true);
    expect(contactsByUserId()).toEqual([
      ['USER_ABC', 'Upper'],
      ['user_Abc', 'Mixed'],
      ['user_abc', 'Lower'],
    ]);
    expect(ctx.sf.service.records('Contact').find((c) => c.Title === 'Exact')?.Clerk_User_Id__c).toBe(
      'user_Abc',
    );

    const byExternalId = await ctx.conn.request<{ LastName: string }>(
      '/sobjects/Contact/Clerk_User_Id__c/user_abc',
    );
    expect(byExternalId.LastName).toBe('Lower');

    // Relationship by External ID matches exactly too.
    const [acme] = ctx.sf.service.insert('Account', [{ Name: 'Acme', Clerk_Organization_Id__c: 'org_Acme' }]);
    ctx.sf.service.insert('Account', [{ Name: 'acme', Clerk_Organization_Id__c: 'org_acme' }]);
    await contacts.update({ Id: exact.id!, Account: { Clerk_Organization_Id__c: 'org_Acme' } });
    expect(ctx.sf.service.records('Contact').find((c) => c.Id === exact.id)?.AccountId).toBe(acme);

    // SOQL `=` stays case-insensitive, as in Salesforce, whatever the field's flag.
    const soql = await ctx.conn.query("SELECT Id FROM Contact WHERE Clerk_User_Id__c = 'user_abc'");
    expect(soql.totalSize).toBe(3);
  });

  it('case-insensitive unique: `user_Abc` and `user_abc` are duplicates, and an upsert of one matches the other', async () => {
    await ctx.conn.metadata.upsert('CustomField', {
      fullName: 'Contact.Clerk_User_Id__c',
      label: 'Clerk User Id',
      type: 'Text',
      length: 255,
      externalId: true,
      unique: true,
      caseSensitive: false,
    });
    const contacts = ctx.conn.sobject('Contact');
    const { id } = await contacts.create({ LastName: 'Mixed', Clerk_User_Id__c: 'user_Abc' });
    const duplicate = await rejectionOf(contacts.create({ LastName: 'Lower', Clerk_User_Id__c: 'user_abc' }));
    expect(duplicate.errorCode).toBe('DUPLICATE_VALUE');
    expect(duplicate.message).toBe(
      `duplicate value found: Clerk_User_Id__c duplicates value on record with id: ${id!.slice(0, 15)}`,
    );

    const upserted = await contacts.upsert(
      { Clerk_User_Id__c: 'USER_ABC', LastName: 'Upper' },
      'Clerk_User_Id__c',
    );
    expect(upserted).toEqual({ id, success: true, errors: [], created: false });
    expect(contactsByUserId()).toEqual([['user_Abc', 'Upper']]);

    const inCollection = await contacts.create([{ LastName: 'Again', Clerk_User_Id__c: 'USER_abc' }]);
    expect(inCollection[0]!.errors[0]).toEqual(expect.objectContaining({ statusCode: 'DUPLICATE_VALUE' }));
  });

  it('a non-unique External ID matches exactly, whatever caseSensitive says', async () => {
    await ctx.conn.metadata.create('CustomField', {
      fullName: 'Contact.Legacy_Id__c',
      label: 'Legacy Id',
      type: 'Text',
      length: 40,
      externalId: true,
      caseSensitive: false,
    });
    await ctx.conn.sobject('Contact').create({ LastName: 'Upper', Legacy_Id__c: 'L1' });
    const lower = await ctx.conn
      .sobject('Contact')
      .upsert({ Legacy_Id__c: 'l1', LastName: 'Lower' }, 'Legacy_Id__c');
    expect(lower.created).toBe(true);
    const upper = await ctx.conn
      .sobject('Contact')
      .upsert({ Legacy_Id__c: 'L1', Title: 'Matched' }, 'Legacy_Id__c');
    expect(upper.created).toBe(false);
    expect(
      ctx.sf.service.records('Contact').map((c) => [c.Legacy_Id__c, c.LastName, c.Title ?? null]),
    ).toEqual([
      ['L1', 'Upper', 'Matched'],
      ['l1', 'Lower', null],
    ]);
  });
});
