import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SALESFORCE_SOURCE, readSchemaSource } from '../src/salesforce/source';
import { startSalesforce, type SalesforceHarness } from './salesforce-harness';

// The sandbox's Salesforce starts with exactly the custom schema of this repository's force-app/ (what
// `clerk-sync salesforce setup` deploys), read from the DX source rather than copied: a field added there is a field
// here, with its type and length.

const OBJECTS = join(DEFAULT_SALESFORCE_SOURCE, 'main', 'default', 'objects');

/** `Object.Field__c` of every field file in force-app, listed straight from the folders. */
function forceAppFields(): string[] {
  return readdirSync(OBJECTS).flatMap((object) => {
    let files: string[] = [];
    try {
      files = readdirSync(join(OBJECTS, object, 'fields'));
    } catch {
      return [];
    }
    return files.map((f) => `${object}.${f.replace('.field-meta.xml', '')}`);
  });
}

/** The `<tag>` value of a field's XML, for comparing with what describe reports. */
function xmlValue(fullName: string, tag: string): string | undefined {
  const [object = '', field = ''] = fullName.split('.');
  const xml = readFileSync(join(OBJECTS, object, 'fields', `${field}.field-meta.xml`), 'utf8');
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

describe('Salesforce sandbox: the custom schema comes from force-app/', () => {
  let sf: SalesforceHarness;
  beforeAll(async () => {
    sf = await startSalesforce();
  });
  afterAll(() => sf.close());

  it('describes every force-app field with its type, length and External ID settings', async () => {
    const conn = await sf.connect();
    const fields = forceAppFields();
    expect(fields.length).toBeGreaterThanOrEqual(14);
    for (const fullName of fields) {
      const [object = '', field = ''] = fullName.split('.');
      const described = (await conn.sobject(object).describe()).fields.find((f) => f.name === field);
      expect({ fullName, found: described !== undefined }).toEqual({ fullName, found: true });
      const type = xmlValue(fullName, 'type');
      const expectedType = { Text: 'string', Number: 'double', Lookup: 'reference', DateTime: 'datetime' }[
        type ?? ''
      ];
      expect({ fullName, type: described?.type }).toEqual({ fullName, type: expectedType });
      const length = xmlValue(fullName, 'length');
      if (length !== undefined)
        expect({ fullName, length: described?.length }).toEqual({ fullName, length: +length });
      expect({ fullName, externalId: described?.externalId }).toEqual({
        fullName,
        externalId: xmlValue(fullName, 'externalId') === 'true',
      });
      expect({ fullName, caseSensitive: described?.caseSensitive }).toEqual({
        fullName,
        caseSensitive: xmlValue(fullName, 'caseSensitive') === 'true',
      });
    }
  });

  it('names a lookup’s parent relationship after the field, as Salesforce does (Contact__c → Contact__r)', async () => {
    const conn = await sf.connect();
    const contact = await conn
      .sobject('Contact')
      .create({ LastName: 'Lovelace', Clerk_User_Id__c: 'user_ada' });
    const account = await conn
      .sobject('Account')
      .create({ Name: 'Analytical', Clerk_Organization_Id__c: 'org_ae' });
    await conn.sobject('Clerk_Membership__c').create({
      Clerk_Membership_Id__c: 'orgmem_1',
      Contact__c: contact.id,
      Account__c: account.id,
      Role__c: 'org:admin',
    });
    const rows = await conn.query<{ Contact__r: { Clerk_User_Id__c: string } }>(
      "SELECT Contact__r.Clerk_User_Id__c FROM Clerk_Membership__c WHERE Account__r.Clerk_Organization_Id__c = 'org_ae'",
    );
    expect(rows.records.map((r) => r.Contact__r.Clerk_User_Id__c)).toEqual(['user_ada']);
  });

  it('types version fields as numbers: text in Clerk_Updated_At__c fails to deserialize, as on Salesforce', async () => {
    const conn = await sf.connect();
    const refused = await conn
      .sobject('Contact')
      .create({ LastName: 'Typed', Clerk_Updated_At__c: 'yesterday' })
      .then(
        () => undefined,
        (e: { errorCode?: string }) => e.errorCode,
      );
    expect(refused).toBe('JSON_PARSER_ERROR');
  });
});

describe('readSchemaSource', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dx-source-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads nothing from a folder that does not exist: an org with standard objects only', () => {
    expect(readSchemaSource(join(dir, 'absent'))).toEqual({ objects: [], fields: [], documents: [] });
  });

  it('reads custom objects and fields of any package folder, with Metadata API full names', () => {
    const fields = join(dir, 'pkg', 'main', 'default', 'objects', 'Widget__c', 'fields');
    mkdirSync(fields, { recursive: true });
    writeFileSync(
      join(dir, 'pkg', 'main', 'default', 'objects', 'Widget__c', 'Widget__c.object-meta.xml'),
      '<?xml version="1.0"?><CustomObject><label>Widget</label><pluralLabel>Widgets</pluralLabel></CustomObject>',
    );
    writeFileSync(
      join(fields, 'Size__c.field-meta.xml'),
      '<CustomField><fullName>Size__c</fullName><label>Size</label><type>Text</type><length>12</length></CustomField>',
    );
    expect(readSchemaSource(dir)).toEqual({
      objects: [{ fullName: 'Widget__c', label: 'Widget', pluralLabel: 'Widgets' }],
      fields: [{ fullName: 'Widget__c.Size__c', label: 'Size', type: 'Text', length: '12' }],
      documents: [],
    });
  });

  it('keeps permission sets as documents the Metadata API reads back', () => {
    const sets = join(dir, 'main', 'default', 'permissionsets');
    mkdirSync(sets, { recursive: true });
    writeFileSync(
      join(sets, 'Widgets.permissionset-meta.xml'),
      '<PermissionSet><label>Widgets</label><hasActivationRequired>false</hasActivationRequired></PermissionSet>',
    );
    expect(readSchemaSource(dir).documents).toEqual([
      {
        type: 'PermissionSet',
        fullName: 'Widgets',
        metadata: { fullName: 'Widgets', label: 'Widgets', hasActivationRequired: 'false' },
      },
    ]);
  });

  it('refuses a field file that does not parse, instead of seeding half a schema', () => {
    const fields = join(dir, 'objects', 'Contact', 'fields');
    mkdirSync(fields, { recursive: true });
    writeFileSync(join(fields, 'Broken__c.field-meta.xml'), '<CustomField><label>Broken');
    expect(() => readSchemaSource(dir)).toThrow();
  });
});
