// The Salesforce side of SPEC.md, defined once: `clerk-sync salesforce setup` deploys these components through the
// Metadata API, and force-app/ holds the same components as Salesforce DX source (for `sf project deploy start`).
// force-app/ is rendered from this table; test/cli/salesforce-setup.test.ts fails when the two differ.

/** A metadata value as the Metadata API and the DX source spell it. */
export type MetadataValue = string | number | boolean | MetadataObject | MetadataObject[];
/** One metadata element with its child elements. */
export interface MetadataObject {
  [property: string]: MetadataValue;
}

/** The metadata types setup deploys, in deployment order (fields need their object; FLS needs the fields). */
export const COMPONENT_TYPES = ['CustomObject', 'CustomField', 'PermissionSet'] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

/** One component: its Metadata API type and full name, and its properties (without `fullName`). */
export interface Component {
  type: ComponentType;
  /** `Clerk_Membership__c`, `Contact.Clerk_User_Id__c`, `Clerk_Sync`. */
  fullName: string;
  metadata: MetadataObject;
}

/** The permission set that grants the integration user what the sync reads and writes. */
export const PERMISSION_SET = 'Clerk_Sync';
/** The custom object of Clerk organization memberships. */
export const MEMBERSHIP_OBJECT = 'Clerk_Membership__c';

const text = (label: string, length: number, description: string): MetadataObject => ({
  description,
  externalId: false,
  label,
  length,
  required: false,
  type: 'Text',
  unique: false,
});

/**
 * Clerk ids are case-sensitive, so the External IDs are too (caseSensitive=true): `user_Abc` and `user_abc` are two
 * users and must be two Contacts. A case-insensitive unique field would treat them as duplicates (DUPLICATE_VALUE
 * on create, the other's record on upsert). SOQL `=` still compares text case-insensitively, whatever the field:
 * a query on one of these ids may return a record whose id differs in case only.
 */
const externalId = (label: string, description: string): MetadataObject => ({
  caseSensitive: true,
  description,
  externalId: true,
  label,
  length: 255,
  required: false,
  type: 'Text',
  unique: true,
});

const version = (what: string): MetadataObject => ({
  description:
    `Clerk updated_at (milliseconds since the epoch) of the last ${what} event applied by clerk-sync; ` +
    'an older event changes nothing.',
  externalId: false,
  label: 'Clerk Updated At',
  precision: 18,
  required: false,
  scale: 0,
  type: 'Number',
  unique: false,
});

const status = (what: string): MetadataObject =>
  text('Clerk Status', 20, `Active, or Deleted once the ${what} is deleted in Clerk (set by clerk-sync).`);

/**
 * Restrict, not SetNull: deleting a Contact or an Account by hand would otherwise leave memberships without
 * their parent that the sync finds no more (it looks them up through Contact__r / Account__r), while the sync
 * itself never deletes either (a Clerk deletion marks them Deleted and removes the memberships first).
 */
const lookup = (target: 'Contact' | 'Account', description: string): MetadataObject => ({
  deleteConstraint: 'Restrict',
  description,
  label: target,
  referenceTo: target,
  relationshipLabel: 'Clerk Memberships',
  relationshipName: 'Clerk_Memberships',
  required: false,
  type: 'Lookup',
});

const FIELDS: Record<string, MetadataObject> = {
  'Account.Clerk_Organization_Id__c': externalId(
    'Clerk Organization ID',
    'Clerk organization id (org_...): the External ID clerk-sync upserts Accounts on.',
  ),
  'Account.Clerk_Slug__c': text('Clerk Slug', 255, 'Clerk organization slug (set by clerk-sync).'),
  'Account.Clerk_Status__c': status('organization'),
  'Account.Clerk_Updated_At__c': version('organization'),
  'Contact.Clerk_User_Id__c': externalId(
    'Clerk User ID',
    'Clerk user id (user_...): the External ID clerk-sync upserts Contacts on.',
  ),
  'Contact.Clerk_Status__c': status('user'),
  'Contact.Clerk_Updated_At__c': version('user'),
  'Contact.Clerk_Welcome_Email_Claim__c': text(
    'Clerk Welcome Email Claim',
    255,
    'svix-id of the delivery that owns the welcome email: it is sent at most once per user.',
  ),
  'Contact.Clerk_Welcome_Email_Run__c': text(
    'Clerk Welcome Email Run',
    255,
    'Temporal run id of the sync that sends the welcome email, set with the claim before the email goes out: ' +
      'no other run sends it, not even a replay of the same delivery.',
  ),
  [`${MEMBERSHIP_OBJECT}.Clerk_Membership_Id__c`]: externalId(
    'Clerk Membership ID',
    'Clerk organization membership id (orgmem_...): the External ID clerk-sync upserts memberships on.',
  ),
  [`${MEMBERSHIP_OBJECT}.Contact__c`]: lookup('Contact', 'The member (Contact of the Clerk user).'),
  [`${MEMBERSHIP_OBJECT}.Account__c`]: lookup('Account', 'The Account of the Clerk organization.'),
  [`${MEMBERSHIP_OBJECT}.Role__c`]: text('Role', 255, 'Clerk role key, e.g. org:admin or org:member.'),
  [`${MEMBERSHIP_OBJECT}.Clerk_Updated_At__c`]: version('membership'),
};

/**
 * Lookups (not master-detail) to Contact and Account, so the sharing model cannot be ControlledByParent:
 * ReadWrite lets every user see the memberships; the sync rewrites them on the next event anyway.
 */
const MEMBERSHIP: MetadataObject = {
  deploymentStatus: 'Deployed',
  description: 'A Clerk organization membership: a Contact in an Account, with its role. Kept by clerk-sync.',
  enableBulkApi: true,
  enableReports: true,
  enableSearch: true,
  enableSharing: true,
  enableStreamingApi: true,
  label: 'Clerk Membership',
  nameField: { displayFormat: 'CM-{000000}', label: 'Clerk Membership Number', type: 'AutoNumber' },
  pluralLabel: 'Clerk Memberships',
  sharingModel: 'ReadWrite',
};

const objectPermission = (object: string, remove: boolean): MetadataObject => ({
  allowCreate: true,
  allowDelete: remove,
  allowEdit: true,
  allowRead: true,
  modifyAllRecords: false,
  object,
  viewAllRecords: false,
});

/**
 * Fields created through the Metadata API have no field-level security: until a permission set grants them,
 * describe hides them and every write fails INVALID_FIELD. Read/edit on every field, CRUD on the memberships,
 * and create/read/edit (no delete: the sync never deletes them) on Account and Contact.
 */
const PERMISSIONS: MetadataObject = {
  description: 'What clerk-sync reads and writes. Assign it to the integration user (the run-as user).',
  fieldPermissions: Object.keys(FIELDS)
    .sort()
    .map((field) => ({ editable: true, field, readable: true })),
  hasActivationRequired: false,
  label: 'Clerk Sync',
  objectPermissions: [
    objectPermission('Account', false),
    objectPermission(MEMBERSHIP_OBJECT, true),
    objectPermission('Contact', false),
  ],
};

/** Every component, in deployment order. */
export const SALESFORCE_COMPONENTS: readonly Component[] = [
  { type: 'CustomObject', fullName: MEMBERSHIP_OBJECT, metadata: MEMBERSHIP },
  ...Object.entries(FIELDS).map(([fullName, metadata]): Component => ({
    type: 'CustomField',
    fullName,
    metadata,
  })),
  { type: 'PermissionSet', fullName: PERMISSION_SET, metadata: PERMISSIONS },
];

/** The External ID fields the sync upserts on (checked after setup). */
export const EXTERNAL_ID_FIELDS: readonly string[] = SALESFORCE_COMPONENTS.filter(
  (c) => c.type === 'CustomField' && c.metadata.externalId === true,
).map((c) => c.fullName);

/**
 * The component as the Metadata API takes it: `fullName` first, then properties in alphabetical order, which is
 * the order of the Metadata WSDL for these types (its SOAP endpoint rejects elements out of order).
 */
export function toMetadata(component: Component): MetadataObject {
  return { fullName: component.fullName, ...sorted(component.metadata) };
}

function sorted(value: MetadataObject): MetadataObject {
  const out: MetadataObject = {};
  for (const key of Object.keys(value).sort()) {
    const v = value[key]!;
    out[key] = Array.isArray(v) ? v.map(sorted) : typeof v === 'object' ? sorted(v) : v;
  }
  return out;
}

const XMLNS = 'http://soap.sforce.com/2006/04/metadata';

/** The DX source path (relative to the repository) and file content of a component. */
export function sourceFile(component: Component): { path: string; xml: string } {
  const base = 'force-app/main/default';
  const { type, fullName, metadata } = component;
  switch (type) {
    case 'CustomObject':
      return {
        path: `${base}/objects/${fullName}/${fullName}.object-meta.xml`,
        xml: render(type, sorted(metadata)),
      };
    case 'CustomField': {
      // In source format a field names itself without its object: the folder says which object.
      const [object, field] = fullName.split('.') as [string, string];
      return {
        path: `${base}/objects/${object}/fields/${field}.field-meta.xml`,
        xml: render(type, { fullName: field, ...sorted(metadata) }),
      };
    }
    case 'PermissionSet':
      return {
        path: `${base}/permissionsets/${fullName}.permissionset-meta.xml`,
        xml: render(type, sorted(metadata)),
      };
  }
}

/** Every DX source file, by path. */
export function sourceFiles(): Map<string, string> {
  return new Map(SALESFORCE_COMPONENTS.map((c) => sourceFile(c)).map((f) => [f.path, f.xml]));
}

function render(root: string, metadata: MetadataObject): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<${root} xmlns="${XMLNS}">`];
  const element = (name: string, value: MetadataValue, indent: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) element(name, item, indent);
    } else if (typeof value === 'object') {
      lines.push(`${indent}<${name}>`);
      for (const [k, v] of Object.entries(value)) element(k, v, `${indent}    `);
      lines.push(`${indent}</${name}>`);
    } else {
      lines.push(`${indent}<${name}>${escapeXml(String(value))}</${name}>`);
    }
  };
  for (const [k, v] of Object.entries(metadata)) element(k, v, '    ');
  lines.push(`</${root}>`, '');
  return lines.join('\n');
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
