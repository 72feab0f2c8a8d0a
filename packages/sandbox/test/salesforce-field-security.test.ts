import { rejectionOf, useSalesforce } from './salesforce-harness';

// Field-level security (reference §6): the integration user reads and edits a custom field only as the org's
// permission sets grant it. The sandbox starts with force-app's Clerk_Sync, which grants every field; an admin who
// takes a grant away (here, through the Metadata API, as `sf project deploy` or Setup would) changes what describe
// shows, what SOQL and REST return, and which writes Salesforce refuses.

const ctx = useSalesforce();

/** Changes what Clerk_Sync grants on `field`, leaving its other permissions as they are. */
async function setPermission(field: string, access: { readable: boolean; editable: boolean }): Promise<void> {
  const set = await ctx.conn.metadata.read('PermissionSet', 'Clerk_Sync');
  const fieldPermissions = (set.fieldPermissions ?? []).map((p) =>
    p.field === field ? { field, ...access } : p,
  );
  const saved = await ctx.conn.metadata.upsert('PermissionSet', { ...set, fieldPermissions });
  expect(saved).toEqual(expect.objectContaining({ success: true, created: false }));
}

async function describedField(object: string, name: string) {
  const described = await ctx.conn.sobject(object).describe();
  return described.fields.find((f) => f.name === name);
}

describe('Salesforce sandbox: field-level security', () => {
  it('grants every force-app field through the seeded Clerk_Sync permission set', async () => {
    expect(await describedField('Contact', 'Clerk_Status__c')).toEqual(
      expect.objectContaining({ createable: true, updateable: true }),
    );
    const { id } = await ctx.conn.sobject('Contact').create({ LastName: 'Open', Clerk_Status__c: 'Active' });
    const row = await ctx.conn.sobject('Contact').retrieve(id!);
    expect(row.Clerk_Status__c).toBe('Active');
  });

  it('a field without edit access: describe says so, writes fail INVALID_FIELD_FOR_INSERT_UPDATE, reads work', async () => {
    const { id } = await ctx.conn
      .sobject('Contact')
      .create({ LastName: 'Before', Clerk_Status__c: 'Active' });
    await setPermission('Contact.Clerk_Status__c', { readable: true, editable: false });

    expect(await describedField('Contact', 'Clerk_Status__c')).toEqual(
      expect.objectContaining({ createable: false, updateable: false }),
    );
    const created = await rejectionOf(
      ctx.conn.sobject('Contact').create({ LastName: 'After', Clerk_Status__c: 'Active' }),
    );
    expect(created.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    expect(created.message).toBe(
      'Unable to create fields: Clerk_Status__c. Please check the security settings of this field and verify that it is read/write for your profile or permission set.',
    );
    const updated = await rejectionOf(
      ctx.conn.sobject('Contact').update({ Id: id!, Clerk_Status__c: 'Deleted' }),
    );
    expect(updated.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    // A write that leaves the field alone goes through; the field still reads.
    await ctx.conn.sobject('Contact').update({ Id: id!, LastName: 'Renamed' });
    const rows = await ctx.conn.query<{ Clerk_Status__c: string }>(
      `SELECT Clerk_Status__c FROM Contact WHERE Id = '${id}'`,
    );
    expect(rows.records[0]?.Clerk_Status__c).toBe('Active');

    // Inside a Composite request, the one subrequest fails with the same error.
    const composite = await ctx.conn.request<{
      compositeResponse: { httpStatusCode: number; body: unknown }[];
    }>({
      method: 'POST',
      url: '/composite',
      body: JSON.stringify({
        allOrNone: false,
        compositeRequest: [
          {
            method: 'PATCH',
            url: `/services/data/v62.0/sobjects/Contact/${id}`,
            referenceId: 'status',
            body: { Clerk_Status__c: 'Deleted' },
          },
        ],
      }),
      headers: { 'content-type': 'application/json' },
    });
    expect(composite.compositeResponse[0]).toEqual(
      expect.objectContaining({
        httpStatusCode: 400,
        body: [expect.objectContaining({ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE' })],
      }),
    );
  });

  it('a field without read access is no column at all: not described, not selectable, not returned, not writable', async () => {
    const { id } = await ctx.conn
      .sobject('Contact')
      .create({ LastName: 'Hidden', Clerk_Status__c: 'Active' });
    await setPermission('Contact.Clerk_Status__c', { readable: false, editable: false });

    expect(await describedField('Contact', 'Clerk_Status__c')).toBeUndefined();
    const query = await rejectionOf(ctx.conn.query('SELECT Clerk_Status__c FROM Contact'));
    expect(query.errorCode).toBe('INVALID_FIELD');
    const row = await ctx.conn.sobject('Contact').retrieve(id!);
    expect(row).not.toHaveProperty('Clerk_Status__c');
    expect(row.LastName).toBe('Hidden');
    const write = await rejectionOf(
      ctx.conn.sobject('Contact').update({ Id: id!, Clerk_Status__c: 'Deleted' }),
    );
    expect(write.errorCode).toBe('INVALID_FIELD');
    expect(write.message).toBe("No such column 'Clerk_Status__c' on sobject of type Contact");
    // An External ID the user cannot read cannot key an upsert either.
    await setPermission('Contact.Clerk_User_Id__c', { readable: false, editable: false });
    const upsert = await rejectionOf(
      ctx.conn.sobject('Contact').upsert({ Clerk_User_Id__c: 'user_1', LastName: 'X' }, 'Clerk_User_Id__c'),
    );
    expect(upsert.errorCode).toBe('NOT_FOUND');
  });

  it('granting the field again, or a reset, brings it back', async () => {
    await setPermission('Contact.Clerk_Status__c', { readable: true, editable: false });
    await setPermission('Contact.Clerk_Status__c', { readable: true, editable: true });
    expect(await describedField('Contact', 'Clerk_Status__c')).toEqual(
      expect.objectContaining({ createable: true, updateable: true }),
    );
    await setPermission('Account.Clerk_Slug__c', { readable: false, editable: false });
    await ctx.reset();
    expect(await describedField('Account', 'Clerk_Slug__c')).toEqual(
      expect.objectContaining({ createable: true, updateable: true }),
    );
  });

  it('in a strict org, a field the Metadata API created is hidden until a permission set grants it', async () => {
    ctx.sf.service.setStrict(true);
    try {
      await ctx.conn.metadata.create('CustomField', {
        fullName: 'Contact.Nickname__c',
        label: 'Nickname',
        type: 'Text',
        length: 40,
      });
      expect(await describedField('Contact', 'Nickname__c')).toBeUndefined();
      await ctx.conn.metadata.upsert('PermissionSet', {
        fullName: 'Nicknames',
        label: 'Nicknames',
        fieldPermissions: [{ field: 'Contact.Nickname__c', readable: true, editable: false }],
      });
      expect(await describedField('Contact', 'Nickname__c')).toEqual(
        expect.objectContaining({ createable: false, updateable: false }),
      );
      await ctx.conn.metadata.delete('PermissionSet', 'Nicknames');
      expect(await describedField('Contact', 'Nickname__c')).toBeUndefined();
    } finally {
      ctx.sf.service.setStrict(false);
    }
  });
});
