import { SalesforceError } from './errors';
import { FieldSecurity, type FieldAccess } from './field-security';
import { KEY_PREFIX } from './ids';
import type { SchemaSource } from './source';

/** Field types as describe names them; `anyType` is a custom field the sandbox accepted without a definition. */
export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'reference'
  | 'boolean'
  | 'double'
  | 'date'
  | 'datetime'
  | 'anyType';

/** Where a definition came from: built in, force-app's fields pre-created (non-strict), the Metadata API, or accepted on write. */
export type Origin = 'standard' | 'seed' | 'metadata' | 'dynamic';

/** One field of an sObject. */
export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length?: number;
  precision?: number;
  scale?: number;
  required: boolean;
  unique: boolean;
  caseSensitive: boolean;
  externalId: boolean;
  referenceTo?: string;
  relationshipName?: string;
  createable: boolean;
  updateable: boolean;
  custom: boolean;
  autoNumber: boolean;
  calculated: boolean;
  origin: Origin;
  /** The CustomField metadata as created, for `readMetadata`. */
  metadata?: Record<string, unknown>;
}

/** One sObject type. */
export interface SObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  origin: Origin;
  writable: boolean;
  fields: Map<string, FieldDef>;
  /** Parent relationship name (lower case) → its lookup field. */
  relationships: Map<string, FieldDef>;
  nameField: { autoNumber: boolean; displayFormat: string; next: number };
  metadata?: Record<string, unknown>;
}

/** Everything the sandbox needs to say "no such column" exactly where Salesforce would. */
export class Schema {
  private readonly objects = new Map<string, SObjectDef>();
  /** Key prefixes handed to custom objects by name, so a re-created object keeps its prefix (and its old ids stay valid). */
  private readonly customPrefixes = new Map<string, string>();
  /** Field-level security: what the org's permission sets grant the integration user. */
  private readonly security = new FieldSecurity();

  /** `seed`: the custom objects and fields a non-strict org starts with (see source.ts). */
  constructor(
    private strict: boolean,
    private readonly seed: SchemaSource = { objects: [], fields: [] },
  ) {
    this.reset();
  }

  /** True when only fields that exist (standard or created through the Metadata API) are accepted. */
  isStrict(): boolean {
    return this.strict;
  }

  /** Standard objects only, plus the seed's custom objects and fields (force-app's) unless strict. */
  reset(): void {
    this.objects.clear();
    for (const def of standardObjects()) this.objects.set(def.name.toLowerCase(), def);
    if (!this.strict) this.seedCustom();
  }

  /** Strict mode drops what was not created through the Metadata API; non-strict brings the seed's definitions back. */
  setStrict(strict: boolean): void {
    this.strict = strict;
    if (strict) {
      for (const [key, obj] of this.objects) {
        if (obj.origin === 'seed') {
          this.objects.delete(key);
          continue;
        }
        for (const [fkey, field] of obj.fields) {
          if (field.origin === 'seed' || field.origin === 'dynamic') this.removeField(obj, fkey);
        }
      }
    } else {
      this.seedCustom();
    }
  }

  /** Every sObject, in creation order. */
  list(): SObjectDef[] {
    return [...this.objects.values()];
  }

  /** The sObject named `name` (case-insensitive). */
  object(name: string): SObjectDef | undefined {
    return this.objects.get(name.toLowerCase());
  }

  /** The sObject whose ids start with `prefix`. */
  objectByPrefix(prefix: string): SObjectDef | undefined {
    for (const obj of this.objects.values()) if (obj.keyPrefix === prefix) return obj;
    return undefined;
  }

  /**
   * A field that exists and the integration user may read; in non-strict mode any other `__c` name reads as an
   * (empty) untyped field. A field it may not read is, as in Salesforce, no column at all.
   */
  fieldForRead(obj: SObjectDef, name: string): FieldDef | undefined {
    const found = obj.fields.get(name.toLowerCase());
    if (found) return this.access(obj, found).readable ? found : undefined;
    if (!this.strict && isCustomName(name)) return dynamicField(name);
    return undefined;
  }

  /**
   * A field that exists and the integration user may read (whether it may edit it is `canWrite`'s question); in
   * non-strict mode an unknown `__c` name is registered as an untyped field.
   */
  fieldForWrite(obj: SObjectDef, name: string): FieldDef | undefined {
    const found = obj.fields.get(name.toLowerCase());
    if (found) return this.access(obj, found).readable ? found : undefined;
    if (this.strict || !isCustomName(name) || !obj.writable) return undefined;
    const field = dynamicField(name);
    obj.fields.set(name.toLowerCase(), field);
    return field;
  }

  /** The org's permission sets (PermissionSet metadata), whose `fieldPermissions` decide `access`. */
  setPermissionSets(sets: readonly Record<string, unknown>[]): void {
    this.security.setPermissionSets(sets);
  }

  /** What the integration user may do with a field (see FieldSecurity.access). */
  access(obj: SObjectDef, field: FieldDef): FieldAccess {
    return this.security.access(obj, field, this.strict);
  }

  /** Whether the integration user may set `field` on a create or an update: the field allows it, and FLS does. */
  canWrite(obj: SObjectDef, field: FieldDef, mode: 'create' | 'update'): boolean {
    const allowed = mode === 'create' ? field.createable : field.updateable;
    return allowed && this.access(obj, field).editable;
  }

  /** Creates or replaces a custom field from CustomField metadata (`fullName` = `Object.Field__c`). */
  applyCustomField(
    md: Record<string, unknown>,
    mode: 'create' | 'update' | 'upsert',
    origin: Origin = 'metadata',
  ): boolean {
    const fullName = str(md.fullName);
    const [objectName, fieldName, ...rest] = fullName.split('.');
    if (!objectName || !fieldName || rest.length > 0) {
      throw metadataError(
        'INVALID_FULLNAME',
        `Invalid fullName, must be Object.Field__c: ${fullName}`,
        'fullName',
      );
    }
    const obj = this.object(objectName);
    if (!obj || !obj.writable) {
      throw metadataError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no CustomObject named ${objectName} found`,
        'fullName',
      );
    }
    return this.putField(obj, fieldName, md, mode, origin, fullName);
  }

  /** Creates or replaces a custom object (and its embedded fields) from CustomObject metadata. */
  applyCustomObject(
    md: Record<string, unknown>,
    mode: 'create' | 'update' | 'upsert',
    origin: Origin = 'metadata',
  ): boolean {
    const name = str(md.fullName);
    if (!isCustomName(name) || name.includes('.')) {
      throw metadataError('INVALID_FULLNAME', `Invalid custom object name: ${name}`, 'fullName');
    }
    let obj = this.object(name);
    const created = !obj;
    if (obj && mode === 'create') {
      throw metadataError(
        'DUPLICATE_DEVELOPER_NAME',
        `There is already an object named ${name.slice(0, -3)}.`,
        'fullName',
      );
    }
    if (!obj && mode === 'update') {
      throw metadataError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no CustomObject named ${name} found`,
        'fullName',
      );
    }
    const nameField = (md.nameField ?? {}) as Record<string, unknown>;
    const autoNumber = str(nameField.type) === 'AutoNumber';
    if (!obj) {
      obj = {
        name,
        label: str(md.label) || name.slice(0, -3).replace(/_/g, ' '),
        labelPlural: str(md.pluralLabel) || str(md.label) || name,
        keyPrefix: this.customPrefix(name),
        custom: true,
        origin,
        writable: true,
        fields: new Map(),
        relationships: new Map(),
        nameField: { autoNumber, displayFormat: str(nameField.displayFormat) || 'A-{0000}', next: 1 },
      };
      for (const field of systemFields()) obj.fields.set(field.name.toLowerCase(), field);
      this.objects.set(name.toLowerCase(), obj);
    } else {
      obj.label = str(md.label) || obj.label;
      obj.labelPlural = str(md.pluralLabel) || obj.labelPlural;
      obj.nameField.autoNumber = autoNumber;
      obj.nameField.displayFormat = str(nameField.displayFormat) || obj.nameField.displayFormat;
      if (origin === 'metadata') obj.origin = 'metadata';
    }
    obj.fields.set('name', {
      ...baseField('Name', autoNumber ? 'string' : 'string', str(nameField.label) || `${obj.label} Name`),
      length: 80,
      autoNumber,
      createable: !autoNumber,
      updateable: !autoNumber,
      origin: 'standard',
    });
    const { fields, ...objectMd } = md;
    obj.metadata = objectMd;
    for (const field of asList(fields)) {
      const fieldMd = field as Record<string, unknown>;
      this.putField(
        obj,
        str(fieldMd.fullName),
        fieldMd,
        'upsert',
        origin,
        `${name}.${str(fieldMd.fullName)}`,
      );
    }
    return created;
  }

  /** Removes a custom field; false when it did not exist. */
  deleteCustomField(fullName: string): boolean {
    const [objectName = '', fieldName = ''] = fullName.split('.');
    const obj = this.object(objectName);
    const field = obj?.fields.get(fieldName.toLowerCase());
    if (!obj || !field || !field.custom) return false;
    this.removeField(obj, fieldName.toLowerCase());
    return true;
  }

  /** Removes a custom object; false when it did not exist. */
  deleteCustomObject(name: string): boolean {
    const obj = this.object(name);
    if (!obj || !obj.custom) return false;
    this.objects.delete(name.toLowerCase());
    return true;
  }

  /** The custom field's metadata as stored (what `readMetadata` returns). */
  readCustomField(fullName: string): Record<string, unknown> | undefined {
    const [objectName = '', fieldName = ''] = fullName.split('.');
    const field = this.object(objectName)?.fields.get(fieldName.toLowerCase());
    return field?.metadata;
  }

  /** The custom object's metadata with its current custom fields. */
  readCustomObject(name: string): Record<string, unknown> | undefined {
    const obj = this.object(name);
    if (!obj?.metadata) return undefined;
    const fields = [...obj.fields.values()]
      .filter((f) => f.metadata)
      .map((f) => ({ ...f.metadata, fullName: f.name }));
    return { ...obj.metadata, fullName: obj.name, fields };
  }

  private customPrefix(name: string): string {
    const key = name.toLowerCase();
    let prefix = this.customPrefixes.get(key);
    if (!prefix) {
      prefix = `a0${(this.customPrefixes.size + 1).toString(36).toUpperCase()}`;
      this.customPrefixes.set(key, prefix);
    }
    return prefix;
  }

  private putField(
    obj: SObjectDef,
    fieldName: string,
    md: Record<string, unknown>,
    mode: 'create' | 'update' | 'upsert',
    origin: Origin,
    fullName: string,
  ): boolean {
    if (!isCustomName(fieldName)) {
      throw metadataError(
        'FIELD_INTEGRITY_EXCEPTION',
        `Custom field names must end with __c: ${fullName}`,
        'fullName',
      );
    }
    const key = fieldName.toLowerCase();
    const existing = obj.fields.get(key);
    const exists = existing !== undefined && existing.origin !== 'dynamic';
    if (exists && mode === 'create') {
      throw metadataError(
        'DUPLICATE_DEVELOPER_NAME',
        `There is already a field named ${fieldName.slice(0, -3)} on ${obj.name}.`,
        'fullName',
      );
    }
    if (!exists && mode === 'update') {
      throw metadataError(
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no CustomField named ${fullName} found`,
        'fullName',
      );
    }
    const field = fieldFromMetadata(fieldName, md, origin, (name) => this.object(name));
    if (existing) this.removeField(obj, key);
    obj.fields.set(key, field);
    if (field.relationshipName) obj.relationships.set(field.relationshipName.toLowerCase(), field);
    return !exists;
  }

  private removeField(obj: SObjectDef, key: string): void {
    const field = obj.fields.get(key);
    if (field?.relationshipName) obj.relationships.delete(field.relationshipName.toLowerCase());
    obj.fields.delete(key);
  }

  private seedCustom(): void {
    for (const md of this.seed.objects)
      if (!this.object(str(md.fullName))) this.applyCustomObject(md, 'create', 'seed');
    for (const md of this.seed.fields) {
      const [objectName = '', fieldName = ''] = str(md.fullName).split('.');
      const existing = this.object(objectName)?.fields.get(fieldName.toLowerCase());
      if (existing && existing.origin !== 'dynamic') continue;
      // The schema reads a lookup's parent relationship from `relationshipName`; readMetadata returns the source's.
      this.applyCustomField(withParentRelationship(fieldName, md), 'upsert', 'seed');
      const field = this.object(objectName)?.fields.get(fieldName.toLowerCase());
      if (field) field.metadata = { ...md };
    }
  }
}

/** True for API names of custom fields and objects. */
export function isCustomName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*__c$/.test(name);
}

function metadataError(statusCode: string, message: string, field: string): SalesforceError {
  return new SalesforceError(400, statusCode, message, [field]);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function bool(value: unknown): boolean {
  return value === true || value === 'true';
}

function num(value: unknown): number | undefined {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Metadata arrays arrive as one object when there is a single element. */
export function asList(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function baseField(name: string, type: FieldType, label = name): FieldDef {
  return {
    name,
    label,
    type,
    required: false,
    unique: false,
    caseSensitive: false,
    externalId: false,
    createable: true,
    updateable: true,
    custom: false,
    autoNumber: false,
    calculated: false,
    origin: 'standard',
  };
}

function readOnly(name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return { ...baseField(name, type, extra.label), createable: false, updateable: false, ...extra };
}

function text(name: string, length: number, extra: Partial<FieldDef> = {}): FieldDef {
  return { ...baseField(name, 'string', extra.label), length, ...extra };
}

function dynamicField(name: string): FieldDef {
  return { ...baseField(name, 'anyType'), custom: true, origin: 'dynamic' };
}

/** Fields every object has; the sandbox's own writes maintain them. */
function systemFields(): FieldDef[] {
  const user = { referenceTo: 'User' };
  return [
    readOnly('Id', 'id', { label: 'Record ID', length: 18 }),
    readOnly('IsDeleted', 'boolean', { label: 'Deleted' }),
    { ...baseField('OwnerId', 'reference', 'Owner ID'), ...user, relationshipName: 'Owner' },
    readOnly('CreatedDate', 'datetime', { label: 'Created Date' }),
    readOnly('CreatedById', 'reference', { label: 'Created By ID', ...user, relationshipName: 'CreatedBy' }),
    readOnly('LastModifiedDate', 'datetime', { label: 'Last Modified Date' }),
    readOnly('LastModifiedById', 'reference', {
      label: 'Last Modified By ID',
      ...user,
      relationshipName: 'LastModifiedBy',
    }),
    readOnly('SystemModstamp', 'datetime', { label: 'System Modstamp' }),
  ];
}

function makeObject(name: string, keyPrefix: string, fields: FieldDef[], writable = true): SObjectDef {
  const obj: SObjectDef = {
    name,
    label: name,
    labelPlural: `${name}s`,
    keyPrefix,
    custom: false,
    origin: 'standard',
    writable,
    fields: new Map(),
    relationships: new Map(),
    nameField: { autoNumber: false, displayFormat: '', next: 1 },
  };
  for (const field of [...systemFields(), ...fields]) {
    const def = writable ? field : { ...field, createable: false, updateable: false };
    obj.fields.set(def.name.toLowerCase(), def);
    if (def.relationshipName) obj.relationships.set(def.relationshipName.toLowerCase(), def);
  }
  return obj;
}

/** Account, Contact and the read-only User, with the standard fields a sync touches (lengths per the field reference). */
function standardObjects(): SObjectDef[] {
  const account = makeObject('Account', KEY_PREFIX.Account, [
    text('Name', 255, { label: 'Account Name', required: true }),
    text('Type', 255, { type: 'picklist', label: 'Account Type' }),
    text('Industry', 255, { type: 'picklist' }),
    text('Website', 255, { type: 'url' }),
    text('Phone', 40, { type: 'phone', label: 'Account Phone' }),
    text('Description', 32000, { type: 'textarea', label: 'Account Description' }),
    text('BillingCity', 40, { label: 'Billing City' }),
    text('BillingCountry', 80, { label: 'Billing Country' }),
  ]);
  const contact = makeObject('Contact', KEY_PREFIX.Contact, [
    {
      ...baseField('AccountId', 'reference', 'Account ID'),
      referenceTo: 'Account',
      relationshipName: 'Account',
    },
    text('LastName', 80, { label: 'Last Name', required: true }),
    text('FirstName', 40, { label: 'First Name' }),
    text('Salutation', 40, { type: 'picklist' }),
    readOnly('Name', 'string', { label: 'Full Name', length: 121, calculated: true }),
    text('Email', 80, { type: 'email' }),
    text('Phone', 40, { type: 'phone', label: 'Business Phone' }),
    text('MobilePhone', 40, { type: 'phone', label: 'Mobile Phone' }),
    text('Title', 128),
    text('Department', 80),
    text('MailingCity', 40, { label: 'Mailing City' }),
    text('Description', 32000, { type: 'textarea', label: 'Contact Description' }),
  ]);
  const user = makeObject(
    'User',
    KEY_PREFIX.User,
    [
      text('Username', 80),
      text('Name', 121, { label: 'Full Name' }),
      text('FirstName', 40, { label: 'First Name' }),
      text('LastName', 80, { label: 'Last Name' }),
      text('Email', 128, { type: 'email' }),
      text('Alias', 8),
      baseField('IsActive', 'boolean', 'Active'),
    ],
    false,
  );
  user.fields.delete('ownerid');
  user.relationships.delete('owner');
  return [account, contact, user];
}

/** Turns CustomField metadata into a field definition, checking what Salesforce checks first. */
function fieldFromMetadata(
  name: string,
  md: Record<string, unknown>,
  origin: Origin,
  lookupObject: (name: string) => SObjectDef | undefined,
): FieldDef {
  const mdType = str(md.type);
  const label = str(md.label) || name.slice(0, -3).replace(/_/g, ' ');
  const field: FieldDef = {
    ...baseField(name, 'string', label),
    custom: true,
    origin,
    required: bool(md.required),
    unique: bool(md.unique),
    caseSensitive: bool(md.caseSensitive),
    externalId: bool(md.externalId),
    metadata: { ...md },
  };
  const invalid = (message: string, fieldName: string): never => {
    throw metadataError('FIELD_INTEGRITY_EXCEPTION', message, fieldName);
  };
  switch (mdType) {
    case 'Text': {
      const length = num(md.length);
      if (length === undefined || length < 1 || length > 255)
        invalid('Length must be between 1 and 255.', 'length');
      return { ...field, type: 'string', length };
    }
    case 'TextArea':
      return { ...field, type: 'textarea', length: 255 };
    case 'LongTextArea': {
      const length = num(md.length) ?? 32768;
      if (length < 256 || length > 131072) invalid('Length must be between 256 and 131072.', 'length');
      return { ...field, type: 'textarea', length };
    }
    case 'Email':
      return { ...field, type: 'email', length: 80 };
    case 'Phone':
      return { ...field, type: 'phone', length: 40 };
    case 'Url':
      return { ...field, type: 'url', length: 255 };
    case 'Picklist':
      return { ...field, type: 'picklist', length: 255 };
    case 'Number':
      return { ...field, type: 'double', precision: num(md.precision) ?? 18, scale: num(md.scale) ?? 0 };
    case 'Checkbox':
      // A checkbox is never null: it defaults to false (or the declared default).
      return { ...field, type: 'boolean', required: false };
    case 'Date':
      return { ...field, type: 'date' };
    case 'DateTime':
      return { ...field, type: 'datetime' };
    case 'Lookup':
    case 'MasterDetail': {
      const referenceTo = str(md.referenceTo);
      const target = lookupObject(referenceTo);
      if (!target)
        invalid(
          `referenceTo value of '${referenceTo}' does not resolve to a valid sObject type`,
          'referenceTo',
        );
      const relationshipName = str(md.relationshipName);
      if (!relationshipName)
        invalid('Must specify a relationshipName for a lookup field.', 'relationshipName');
      return {
        ...field,
        type: 'reference',
        referenceTo: target?.name,
        relationshipName: `${relationshipName}__r`,
        required: field.required || mdType === 'MasterDetail',
        length: 18,
      };
    }
    default:
      return invalid(`Unsupported field type for the sandbox: ${mdType || '(none)'}`, 'type');
  }
}

/**
 * Salesforce names a lookup's child-to-parent relationship after the field (`Contact__c` → `Contact__r`), while
 * `relationshipName` names the parent's list of children (`Clerk_Memberships` → `Clerk_Memberships__r`). The
 * schema models the former only, from `relationshipName`: hand it the field-derived name.
 */
export function withParentRelationship(
  fieldName: string,
  md: Record<string, unknown>,
): Record<string, unknown> {
  if (md.relationshipName === undefined || !/__c$/i.test(fieldName)) return md;
  return { ...md, relationshipName: fieldName.slice(0, -3) };
}
