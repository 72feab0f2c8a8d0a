import { rejectionOf, useSalesforce } from './salesforce-harness';

const ctx = useSalesforce({ strict: true });

/** A permission set granting read and edit on `fields`: without one, a field the Metadata API created is hidden. */
const grant = (...fields: string[]) =>
  ctx.conn.metadata.upsert('PermissionSet', {
    fullName: 'Clerk_Sync',
    label: 'Clerk Sync',
    fieldPermissions: fields.map((field) => ({ field, editable: true, readable: true })),
  });

const CLERK_USER_ID = {
  fullName: 'Contact.Clerk_User_Id__c',
  label: 'Clerk User Id',
  type: 'Text',
  length: 255,
  externalId: true,
  unique: true,
};

describe('Salesforce sandbox: Metadata API and strict mode', () => {
  it('rejects unknown custom fields and objects until the Metadata API creates them and a permission set grants them', async () => {
    const field = await rejectionOf(
      ctx.conn.sobject('Contact').create({ LastName: 'Strict', Clerk_User_Id__c: 'user_1' }),
    );
    expect(field.errorCode).toBe('INVALID_FIELD');
    expect(field.message).toBe("No such column 'Clerk_User_Id__c' on sobject of type Contact");
    const query = await rejectionOf(ctx.conn.query("SELECT Id FROM Contact WHERE Clerk_User_Id__c = 'x'"));
    expect(query.errorCode).toBe('INVALID_FIELD');
    expect((await rejectionOf(ctx.conn.query('SELECT Id FROM Clerk_Membership__c'))).errorCode).toBe(
      'INVALID_TYPE',
    );
    expect((await rejectionOf(ctx.conn.sobject('Clerk_Membership__c').create({}))).errorCode).toBe(
      'NOT_FOUND',
    );

    const created = await ctx.conn.metadata.create('CustomField', CLERK_USER_ID);
    expect(created).toEqual(expect.objectContaining({ fullName: 'Contact.Clerk_User_Id__c', success: true }));
    // Created through the API, the field has no field-level security yet: the integration user cannot see it.
    const hidden = await rejectionOf(
      ctx.conn
        .sobject('Contact')
        .upsert({ Clerk_User_Id__c: 'user_1', LastName: 'Strict' }, 'Clerk_User_Id__c'),
    );
    expect(hidden.errorCode).toBe('NOT_FOUND');
    expect(hidden.message).toBe(
      'Provided external ID field does not exist or is not accessible: Clerk_User_Id__c',
    );
    await grant('Contact.Clerk_User_Id__c');

    const upserted = await ctx.conn
      .sobject('Contact')
      .upsert({ Clerk_User_Id__c: 'user_1', LastName: 'Strict' }, 'Clerk_User_Id__c');
    expect(upserted.created).toBe(true);
    const dup = await rejectionOf(
      ctx.conn.sobject('Contact').create({ Clerk_User_Id__c: 'user_1', LastName: 'Twice' }),
    );
    expect(dup.errorCode).toBe('DUPLICATE_VALUE');
  });

  it('creates a custom object with its fields, lookups and relationships', async () => {
    await ctx.conn.metadata.create('CustomField', [
      CLERK_USER_ID,
      {
        fullName: 'Account.Clerk_Organization_Id__c',
        label: 'Clerk Org',
        type: 'Text',
        length: 255,
        externalId: true,
        unique: true,
      },
    ]);
    const result = await ctx.conn.metadata.create('CustomObject', {
      fullName: 'Clerk_Membership__c',
      label: 'Clerk Membership',
      pluralLabel: 'Clerk Memberships',
      nameField: { type: 'AutoNumber', label: 'Membership Number', displayFormat: 'M-{0000}' },
      deploymentStatus: 'Deployed',
      sharingModel: 'ReadWrite',
      fields: [
        {
          fullName: 'Clerk_Membership_Id__c',
          label: 'Clerk Membership Id',
          type: 'Text',
          length: 255,
          externalId: true,
          unique: true,
        },
        {
          fullName: 'Contact__c',
          label: 'Contact',
          type: 'Lookup',
          referenceTo: 'Contact',
          relationshipName: 'Contact',
        },
        {
          fullName: 'Account__c',
          label: 'Account',
          type: 'Lookup',
          referenceTo: 'Account',
          relationshipName: 'Account',
        },
        { fullName: 'Role__c', label: 'Role', type: 'Text', length: 255 },
      ],
    });
    expect(result.success).toBe(true);
    await grant(
      'Contact.Clerk_User_Id__c',
      'Account.Clerk_Organization_Id__c',
      ...['Clerk_Membership_Id__c', 'Contact__c', 'Account__c', 'Role__c'].map(
        (f) => `Clerk_Membership__c.${f}`,
      ),
    );

    const account = await ctx.conn
      .sobject('Account')
      .create({ Name: 'Acme', Clerk_Organization_Id__c: 'org_1' });
    const contact = await ctx.conn
      .sobject('Contact')
      .create({ LastName: 'Member', Clerk_User_Id__c: 'user_1' });
    await ctx.conn.sobject('Clerk_Membership__c').upsert(
      {
        Clerk_Membership_Id__c: 'mem_1',
        Contact__c: contact.id,
        Account__c: account.id,
        Role__c: 'org:admin',
      },
      'Clerk_Membership_Id__c',
    );
    const rows = await ctx.conn.query(
      'SELECT Name, Contact__r.Clerk_User_Id__c, Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c',
    );
    expect(rows.records).toEqual([
      expect.objectContaining({
        Name: 'M-0001',
        Contact__r: expect.objectContaining({ Clerk_User_Id__c: 'user_1' }),
        Account__r: expect.objectContaining({ Clerk_Organization_Id__c: 'org_1' }),
      }),
    ]);
  });

  it('reads back what was created, and an empty result for what was not', async () => {
    await ctx.conn.metadata.create('CustomField', CLERK_USER_ID);
    const read = await ctx.conn.metadata.read('CustomField', 'Contact.Clerk_User_Id__c');
    expect(read).toEqual(
      expect.objectContaining({
        fullName: 'Contact.Clerk_User_Id__c',
        type: 'Text',
        length: 255,
        externalId: true,
        unique: true,
      }),
    );
    const missing = await ctx.conn.metadata.read('CustomField', [
      'Contact.Clerk_Status__c',
      'Contact.Clerk_User_Id__c',
    ]);
    expect(missing[0]!.fullName).toBeUndefined();
    expect(missing[1]!.fullName).toBe('Contact.Clerk_User_Id__c');
    expect((await ctx.conn.metadata.read('CustomObject', 'Nope__c')).fullName).toBeUndefined();
  });

  it('answers DUPLICATE_DEVELOPER_NAME on a second create and created:false on upsert', async () => {
    await ctx.conn.metadata.create('CustomField', CLERK_USER_ID);
    const again = await ctx.conn.metadata.create('CustomField', CLERK_USER_ID);
    expect(again.success).toBe(false);
    expect(again.errors).toEqual([expect.objectContaining({ statusCode: 'DUPLICATE_DEVELOPER_NAME' })]);

    const upserts = await ctx.conn.metadata.upsert('CustomField', [
      { ...CLERK_USER_ID, label: 'Clerk User' },
      { fullName: 'Contact.Clerk_Status__c', label: 'Clerk Status', type: 'Text', length: 255 },
    ]);
    expect(upserts).toEqual([
      expect.objectContaining({ fullName: 'Contact.Clerk_User_Id__c', success: true, created: false }),
      expect.objectContaining({ fullName: 'Contact.Clerk_Status__c', success: true, created: true }),
    ]);
    const update = await ctx.conn.metadata.update('CustomField', {
      fullName: 'Contact.Nope__c',
      type: 'Text',
      length: 10,
    });
    expect(update.success).toBe(false);
  });

  it('accepts permission sets and lists what exists', async () => {
    const perm = await ctx.conn.metadata.upsert('PermissionSet', {
      fullName: 'Clerk_Sync',
      label: 'Clerk Sync',
      fieldPermissions: [{ field: 'Contact.Clerk_User_Id__c', editable: true, readable: true }],
    });
    expect(perm).toEqual(expect.objectContaining({ success: true, created: true }));
    await ctx.conn.metadata.create('CustomField', CLERK_USER_ID);
    const fields = await ctx.conn.metadata.list({ type: 'CustomField' });
    expect(fields.map((f) => f.fullName)).toEqual(['Contact.Clerk_User_Id__c']);
    const sets = await ctx.conn.metadata.list([{ type: 'PermissionSet' }]);
    expect(sets.map((s) => s.fullName)).toEqual(['Clerk_Sync']);
  });

  it('refreshes an expired session on a SOAP INVALID_SESSION_ID fault', async () => {
    ctx.sf.service.expireSessions();
    const created = await ctx.conn.metadata.create('CustomField', CLERK_USER_ID);
    expect(created.success).toBe(true);
  });

  it('goes back to pre-created SPEC fields when strict mode is switched off', async () => {
    ctx.sf.service.setStrict(false);
    try {
      const result = await ctx.conn
        .sobject('Contact')
        .create({ LastName: 'Lenient', Clerk_User_Id__c: 'u', Anything__c: 1 });
      expect(result.success).toBe(true);
      const read = await ctx.conn.metadata.read('CustomObject', 'Clerk_Membership__c');
      expect(read.fullName).toBe('Clerk_Membership__c');
    } finally {
      ctx.sf.service.setStrict(true);
    }
    expect((await rejectionOf(ctx.conn.query('SELECT Clerk_User_Id__c FROM Contact'))).errorCode).toBe(
      'INVALID_FIELD',
    );
  });
});
