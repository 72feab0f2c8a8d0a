import { SalesforceError, badRequest, notFound } from './errors';
import { IdFactory, KEY_PREFIX, normalizeId, toId15 } from './ids';
import type { SchemaSource } from './source';
import { Schema, type FieldDef, type SObjectDef } from './schema';
import { RecordStore, type StoredRecord } from './store';
import { asText } from './values';

/** What a write sends: field name → JSON value (and `attributes`, which is ignored). */
export type RecordBody = Record<string, unknown>;

/** An upsert's outcome: the record and whether it was inserted. */
export interface UpsertOutcome {
  record: StoredRecord;
  created: boolean;
}

/** Salesforce's DateTime wire format: `2025-01-31T12:00:00.000+0000`. */
export function formatDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * What an org's admin adds on top of the schema: a validation rule (on create or update), or an Apex trigger's
 * `addError()` (on delete as well). Salesforce answers both with FIELD_CUSTOM_VALIDATION_EXCEPTION and rejects
 * that one write; inside a Composite request without allOrNone, the other subrequests still apply.
 */
export interface ValidationRule {
  id: string;
  /** sObject API name, e.g. `Contact`. */
  object: string;
  on: 'create' | 'update' | 'delete';
  /** Fires only for a write that sets this field (create and update); every write of `on` when absent. */
  field?: string;
  message: string;
  /**
   * What Salesforce answers (default FIELD_CUSTOM_VALIDATION_EXCEPTION). `UNABLE_TO_LOCK_ROW` models another
   * transaction holding the record: the same one write fails, transiently.
   */
  errorCode?: string;
  /** Fires this many times, then switches off; every time when absent. */
  times?: number;
}

/**
 * The org: schema, records and the DML rules Salesforce applies to a write.
 * Every write goes through here, whatever API (REST, collections, composite) carried it.
 */
export class SalesforceOrg {
  readonly schema: Schema;
  readonly store = new RecordStore();
  readonly organizationId: string;
  readonly userId: string;
  private readonly ids = new IdFactory();
  private lastTimestamp = 0;
  private rules: ValidationRule[] = [];

  constructor(strict: boolean, seed?: SchemaSource) {
    this.schema = new Schema(strict, seed);
    this.organizationId = this.ids.next(KEY_PREFIX.Organization);
    this.userId = this.ids.next(KEY_PREFIX.User);
    this.seedUser();
  }

  /** Empties the data and the custom schema, back to the seeded state. */
  reset(): void {
    this.store.clear();
    this.schema.reset();
    this.rules = [];
    this.seedUser();
  }

  /** Adds a validation rule (see ValidationRule). */
  addRule(rule: ValidationRule): void {
    if (!this.schema.object(rule.object)) throw new Error(`no sObject ${rule.object}`);
    this.rules.push({ ...rule });
  }

  /** Removes a rule; false when there was none with that id. */
  removeRule(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length < before;
  }

  /** Throws the first rule the write breaks, as Salesforce reports it. */
  private applyRules(obj: SObjectDef, on: ValidationRule['on'], body: RecordBody = {}): void {
    if (this.rules.length === 0) return;
    const sets = new Set(Object.keys(body).map((k) => k.toLowerCase()));
    const rule = this.rules.find(
      (r) =>
        r.object.toLowerCase() === obj.name.toLowerCase() &&
        r.on === on &&
        (r.field === undefined || sets.has(r.field.toLowerCase())),
    );
    if (!rule) return;
    if (rule.times !== undefined && --rule.times <= 0) this.removeRule(rule.id);
    const code = rule.errorCode ?? 'FIELD_CUSTOM_VALIDATION_EXCEPTION';
    throw badRequest(
      code,
      rule.message,
      rule.field && code === 'FIELD_CUSTOM_VALIDATION_EXCEPTION' ? [rule.field] : [],
    );
  }

  /** Switches strict mode (see Schema.setStrict); indexes are rebuilt lazily. */
  setStrict(strict: boolean): void {
    this.schema.setStrict(strict);
    for (const obj of this.schema.list()) this.store.dropIndexes(obj.name);
  }

  /** The sObject for a REST URL segment; 404 like Salesforce for an unknown type. */
  objectForUrl(type: string): SObjectDef {
    const obj = this.schema.object(type);
    if (!obj) throw notFound();
    return obj;
  }

  /** A live or deleted record of `obj` by 15- or 18-char id, or undefined. */
  find(obj: SObjectDef, rawId: string): StoredRecord | undefined {
    const id = normalizeId(rawId);
    const record = id ? this.store.get(id) : undefined;
    return record && record.type === obj.name ? record : undefined;
  }

  /** Inserts one record after Salesforce's validation. */
  create(obj: SObjectDef, body: RecordBody): StoredRecord {
    this.assertWritable(obj, 'insert');
    this.applyRules(obj, 'create', body);
    const now = formatDateTime(this.now());
    const id = this.ids.next(obj.keyPrefix);
    const values: Record<string, unknown> = {
      Id: id,
      IsDeleted: false,
      CreatedDate: now,
      CreatedById: this.userId,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
    };
    if (obj.fields.has('ownerid')) values.OwnerId = this.userId;
    for (const field of obj.fields.values()) {
      if (field.type === 'boolean' && field.custom) values[field.name] = defaultCheckbox(field);
    }
    Object.assign(values, this.validate(obj, body, 'create', id));
    if (obj.custom && obj.fields.has('name') && values.Name == null) {
      values.Name = obj.nameField.autoNumber ? formatAutoNumber(obj) : id;
    }
    this.finish(obj, values, id);
    return this.store.insert(obj.name, values);
  }

  /** Updates one live record after Salesforce's validation. */
  update(obj: SObjectDef, record: StoredRecord, body: RecordBody): StoredRecord {
    this.assertWritable(obj, 'update');
    if (record.values.IsDeleted === true)
      throw new SalesforceError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    const id = String(record.values.Id);
    this.applyRules(obj, 'update', body);
    const values = { ...record.values, ...this.validate(obj, body, 'update', id) };
    const now = formatDateTime(this.now());
    values.LastModifiedDate = now;
    values.LastModifiedById = this.userId;
    values.SystemModstamp = now;
    this.finish(obj, values, id);
    this.store.write(record, values);
    return record;
  }

  /** Upsert on an External ID (or Id): insert when nothing matches, update one match, 300 for several. */
  upsert(
    obj: SObjectDef,
    fieldName: string,
    value: string,
    body: RecordBody,
    apiVersion: number,
  ): UpsertOutcome {
    const field = this.schema.fieldForRead(obj, fieldName);
    if (!field || !(field.externalId || field.name === 'Id')) {
      throw notFound(`Provided external ID field does not exist or is not accessible: ${fieldName}`);
    }
    const rest = withoutKey(body, field.name);
    if (field.name === 'Id') {
      if (value === '') return { record: this.create(obj, rest), created: true };
      const record = this.find(obj, value);
      if (!record) throw notFound();
      return { record: this.update(obj, record, rest), created: false };
    }
    const matches = this.matchExternalId(obj, field, value);
    if (matches.length > 1) {
      const urls = matches.map((r) => recordUrl(apiVersion, obj.name, String(r.values.Id)));
      throw new MultipleChoices(urls);
    }
    const [match] = matches;
    if (match) return { record: this.update(obj, match, rest), created: false };
    return { record: this.create(obj, { ...rest, [field.name]: value }), created: true };
  }

  /** Moves a record to the recycle bin; a second delete answers ENTITY_IS_DELETED. */
  delete(obj: SObjectDef, record: StoredRecord): void {
    this.assertWritable(obj, 'delete');
    if (record.values.IsDeleted === true)
      throw new SalesforceError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    this.applyRules(obj, 'delete');
    const now = formatDateTime(this.now());
    this.store.write(record, { ...record.values, IsDeleted: true, SystemModstamp: now });
    this.releaseChildren(record, now);
  }

  /**
   * Live records of `obj` whose `field` holds `value`, as upsert, unique checks and parent look-ups match it:
   * case-insensitively only for a unique field with caseSensitive=false ("Treat ABC and abc as duplicate
   * values"), exactly otherwise (reference §2). SOQL `=` is another matter: it ignores case whatever the field.
   */
  matchExternalId(obj: SObjectDef, field: FieldDef, value: string): StoredRecord[] {
    const found = this.store.lookup(obj.name, field.name, value);
    if (field.unique && !field.caseSensitive) return found;
    return found.filter((r) => asText(r.values[field.name]) === value);
  }

  /** A monotonic clock, so every write moves SystemModstamp forward. */
  now(): Date {
    const t = Math.max(Date.now(), this.lastTimestamp + 1);
    this.lastTimestamp = t;
    return new Date(t);
  }

  private seedUser(): void {
    const user = this.schema.object('User')!;
    const now = formatDateTime(this.now());
    if (this.store.get(this.userId)) return;
    this.store.insert(user.name, {
      Id: this.userId,
      IsDeleted: false,
      Username: 'integration@clerk-sync.sandbox',
      Name: 'Sandbox Integration',
      FirstName: 'Sandbox',
      LastName: 'Integration',
      Email: 'integration@clerk-sync.sandbox',
      Alias: 'sbint',
      IsActive: true,
      CreatedDate: now,
      CreatedById: this.userId,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
    });
  }

  private assertWritable(obj: SObjectDef, op: string): void {
    if (!obj.writable) {
      throw badRequest('INVALID_TYPE_FOR_OPERATION', `entity type ${obj.name} does not support ${op}`);
    }
  }

  /** Checks every field of a body in order: unknown, read-only, then each value's type, length and lookups. */
  private validate(
    obj: SObjectDef,
    body: RecordBody,
    mode: 'create' | 'update',
    selfId: string,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const readOnly: string[] = [];
    for (const [key, raw] of Object.entries(body)) {
      if (key === 'attributes' || raw === undefined) continue;
      const relationship = obj.relationships.get(key.toLowerCase());
      if (relationship && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
        if (!this.schema.canWrite(obj, relationship, mode)) {
          readOnly.push(relationship.name);
          continue;
        }
        out[relationship.name] = this.resolveByExternalId(relationship, raw as RecordBody);
        continue;
      }
      const field = this.schema.fieldForWrite(obj, key);
      if (!field)
        throw badRequest('INVALID_FIELD', `No such column '${key}' on sobject of type ${obj.name}`, [key]);
      if (!this.schema.canWrite(obj, field, mode)) {
        readOnly.push(field.name);
        continue;
      }
      out[field.name] = this.coerce(field, raw, selfId);
    }
    if (readOnly.length > 0) {
      throw badRequest(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to ${mode} fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        readOnly,
      );
    }
    return out;
  }

  /** Required fields and unique values, checked on the merged record. */
  private finish(obj: SObjectDef, values: Record<string, unknown>, selfId: string): void {
    const missing = [...obj.fields.values()].filter(
      (f) => f.required && (values[f.name] === null || values[f.name] === undefined),
    );
    if (missing.length > 0) {
      const names = missing.map((f) => f.name);
      throw badRequest('REQUIRED_FIELD_MISSING', `Required fields are missing: [${names.join(', ')}]`, names);
    }
    for (const field of obj.fields.values()) {
      if (!field.unique || values[field.name] == null) continue;
      const value = String(values[field.name]);
      const other = this.matchExternalId(obj, field, value).find((r) => r.values.Id !== selfId);
      if (other) {
        throw badRequest(
          'DUPLICATE_VALUE',
          `duplicate value found: ${field.name} duplicates value on record with id: ${toId15(String(other.values.Id))}`,
        );
      }
    }
    if (obj.name === 'Contact') {
      values.Name = [values.FirstName, values.LastName]
        .filter((v) => typeof v === 'string' && v !== '')
        .join(' ');
    }
  }

  /** Turns a JSON value into the stored value for `field`, with Salesforce's error for a bad one. */
  private coerce(field: FieldDef, raw: unknown, selfId: string): unknown {
    const label = field.label;
    const parseError = (): never => {
      throw badRequest(
        'JSON_PARSER_ERROR',
        `Cannot deserialize instance of ${field.type} from ${typeof raw} value ${JSON.stringify(raw)} or request may be missing a required field`,
      );
    };
    if (typeof raw === 'object' && raw !== null) return parseError();
    switch (field.type) {
      case 'anyType':
        return raw === '' ? null : raw;
      case 'boolean':
        if (raw === null) return false;
        if (typeof raw === 'boolean') return raw;
        if (raw === 'true' || raw === 'false') return raw === 'true';
        return parseError();
      case 'double': {
        if (raw === null || raw === '') return null;
        const n = typeof raw === 'number' ? raw : Number(raw);
        return Number.isFinite(n) ? n : parseError();
      }
      case 'date':
      case 'datetime': {
        if (raw === null || raw === '') return null;
        if (typeof raw !== 'string') return parseError();
        const date = new Date(
          /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'),
        );
        if (Number.isNaN(date.getTime())) return parseError();
        return field.type === 'date' ? date.toISOString().slice(0, 10) : formatDateTime(date);
      }
      case 'reference':
      case 'id':
        return this.checkReference(field, raw, selfId);
      default: {
        if (raw === null || raw === '') return null;
        const value = asText(raw);
        if (field.length !== undefined && value.length > field.length) {
          throw badRequest(
            'STRING_TOO_LONG',
            `${label}: data value too large: ${value.length > 40 ? `${value.slice(0, 40)}...` : value} (max length=${field.length})`,
            [field.name],
          );
        }
        if (field.type === 'email' && !EMAIL.test(value)) {
          throw badRequest('INVALID_EMAIL_ADDRESS', `${label}: invalid email address: ${value}`, [
            field.name,
          ]);
        }
        return value;
      }
    }
  }

  /** A lookup must name a live record of the right type. */
  private checkReference(field: FieldDef, raw: unknown, _selfId: string): string | null {
    if (raw === null || raw === '') return null;
    const text = asText(raw);
    const id = normalizeId(text);
    if (!id)
      throw badRequest('MALFORMED_ID', `${field.label}: id value of incorrect type: ${text}`, [field.name]);
    const target = field.referenceTo ? this.schema.object(field.referenceTo) : undefined;
    if (!target || !id.startsWith(target.keyPrefix)) {
      throw badRequest('FIELD_INTEGRITY_EXCEPTION', `${field.label}: id value of incorrect type: ${text}`, [
        field.name,
      ]);
    }
    const record = this.store.get(id);
    if (!record || record.type !== target.name) {
      throw badRequest(
        'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
        `insufficient access rights on cross-reference id: ${toId15(id)}`,
        [field.name],
      );
    }
    if (record.values.IsDeleted === true)
      throw badRequest('ENTITY_IS_DELETED', 'entity is deleted', [field.name]);
    return id;
  }

  /** `"Account": {"Clerk_Organization_Id__c": "org_1"}` sets AccountId to that Account. */
  private resolveByExternalId(field: FieldDef, ref: RecordBody): string {
    const parent = this.schema.object(field.referenceTo ?? '');
    const entries = Object.entries(ref).filter(([k]) => k !== 'attributes');
    const [entry] = entries;
    if (!parent || !entry || entries.length !== 1) {
      throw badRequest(
        'INVALID_FIELD',
        `Invalid foreign key relationship name ${field.relationshipName ?? ''}`,
      );
    }
    const [key, value] = entry;
    const extField = this.schema.fieldForRead(parent, key);
    if (!extField || !(extField.externalId || extField.name === 'Id')) {
      throw badRequest('INVALID_FIELD', `No such column '${key}' on sobject of type ${parent.name}`, [key]);
    }
    const text = String(value);
    const matches =
      extField.name === 'Id'
        ? [this.find(parent, text)].filter(
            (r): r is StoredRecord => r !== undefined && r.values.IsDeleted !== true,
          )
        : this.matchExternalId(parent, extField, text);
    if (matches.length !== 1) {
      throw badRequest(
        matches.length === 0 ? 'INVALID_FIELD' : 'DUPLICATE_EXTERNAL_ID',
        matches.length === 0
          ? `Foreign key external ID: ${text} not found for field ${extField.name} in entity ${parent.name}`
          : `${parent.name}: more than one record found for external id field: ${text}`,
        [extField.name],
      );
    }
    return String(matches[0]!.values.Id);
  }

  /** Children of a deleted record: Contacts go with their Account, master-detail children go too, lookups are cleared. */
  private releaseChildren(parent: StoredRecord, now: string): void {
    const parentId = String(parent.values.Id);
    for (const obj of this.schema.list()) {
      for (const field of obj.fields.values()) {
        if (
          field.type !== 'reference' ||
          field.referenceTo !== parent.type ||
          (field.origin === 'standard' && field.name !== 'AccountId')
        ) {
          continue;
        }
        for (const child of this.store.lookup(obj.name, field.name, parentId)) {
          const cascade = field.name === 'AccountId' || field.metadata?.type === 'MasterDetail';
          if (cascade) this.delete(obj, child);
          else this.store.write(child, { ...child.values, [field.name]: null, SystemModstamp: now });
        }
      }
    }
  }
}

/** Thrown by upsert when the External ID matches several records (HTTP 300). */
export class MultipleChoices extends Error {
  override readonly name = 'MultipleChoices';

  constructor(readonly urls: string[]) {
    super('Multiple records found');
  }
}

/** `/services/data/vXX.X/sobjects/Type/Id`, as records' `attributes.url` and Location headers carry it. */
export function recordUrl(apiVersion: number, type: string, id: string): string {
  return `/services/data/v${apiVersion.toFixed(1)}/sobjects/${type}/${id}`;
}

function withoutKey(body: RecordBody, name: string): RecordBody {
  const lower = name.toLowerCase();
  return Object.fromEntries(Object.entries(body).filter(([k]) => k.toLowerCase() !== lower));
}

function defaultCheckbox(field: FieldDef): boolean {
  return field.metadata?.defaultValue === 'true' || field.metadata?.defaultValue === true;
}

function formatAutoNumber(obj: SObjectDef): string {
  const n = obj.nameField.next;
  obj.nameField.next += 1;
  return obj.nameField.displayFormat.replace(/\{(0+)\}/, (_m, zeros: string) =>
    String(n).padStart(zeros.length, '0'),
  );
}
