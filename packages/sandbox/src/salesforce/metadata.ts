import { SalesforceError } from './errors';
import { formatDateTime, type SalesforceOrg } from './org';
import { asList, withParentRelationship } from './schema';
import type { SchemaSource } from './source';
import { escapeXml, localName, parseXml, toValue, toXml, type XmlElement } from './xml';

/** A SOAP answer: 200 with a response element, or 500 with a fault. */
export interface SoapResponse {
  status: number;
  xml: string;
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"' +
  ' xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>';
const ENVELOPE_CLOSE = '</soapenv:Body></soapenv:Envelope>';
const MAX_COMPONENTS = 10;

/** A SOAP fault as jsforce detects it: HTTP 500 and `<faultcode>sf:CODE</faultcode>`. */
export function soapFault(code: string, message: string): SoapResponse {
  return {
    status: 500,
    xml:
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"' +
      ' xmlns:sf="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><soapenv:Fault>' +
      `<faultcode>sf:${code}</faultcode><faultstring>${escapeXml(`${code}: ${message}`)}</faultstring>` +
      '</soapenv:Fault></soapenv:Body></soapenv:Envelope>',
  };
}

interface SaveOutcome {
  fullName: string;
  success: boolean;
  created?: boolean;
  error?: SalesforceError;
}

/**
 * The Metadata API as jsforce's `conn.metadata` calls it (SOAP at `/services/Soap/m/NN.0`):
 * create/update/upsert/read/delete/list of CustomObject and CustomField change the org's schema;
 * other types (PermissionSet…) are kept as documents so read and list show them; a permission set's
 * `fieldPermissions` are the integration user's field-level security (Schema.access).
 */
export class MetadataApi {
  private readonly documents = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly createdAt = new Map<string, string>();

  /** `seeded`: documents a non-strict org starts with, like its seeded schema (force-app's permission set). */
  constructor(
    private readonly org: SalesforceOrg,
    private readonly seeded: NonNullable<SchemaSource['documents']> = [],
  ) {
    this.seed();
  }

  /** Forgets stored documents (the schema is reset by the org), then seeds them again unless strict. */
  reset(): void {
    this.documents.clear();
    this.createdAt.clear();
    this.seed();
  }

  /** Non-strict: the seeded documents exist (unless deployed over); strict: only what the Metadata API created. */
  seed(): void {
    for (const { type, fullName, metadata } of this.seeded) {
      const perType = this.documents.get(type) ?? new Map<string, Record<string, unknown>>();
      this.documents.set(type, perType);
      if (this.org.schema.isStrict()) {
        if (perType.get(fullName) === metadata) perType.delete(fullName);
      } else if (!perType.has(fullName)) perType.set(fullName, metadata);
    }
    this.grantFieldAccess();
  }

  /** Field-level security follows the permission sets: the schema answers describe, reads and writes with them. */
  private grantFieldAccess(): void {
    this.org.schema.setPermissionSets([...(this.documents.get('PermissionSet')?.values() ?? [])]);
  }

  /** The session id from the SOAP header, or undefined (parse errors surface from `handle`). */
  static sessionId(envelope: XmlElement): string | undefined {
    const header = envelope.children.find((c) => c.local === 'Header');
    const sessionHeader = header?.children.find((c) => c.local === 'SessionHeader');
    return sessionHeader?.children.find((c) => c.local === 'sessionId')?.text.trim();
  }

  /** Parses an envelope; undefined when it is not XML. */
  static parse(body: string): XmlElement | undefined {
    try {
      return parseXml(body);
    } catch {
      return undefined;
    }
  }

  /** Runs the operation in the envelope's body. */
  handle(envelope: XmlElement): SoapResponse {
    const body = envelope.children.find((c) => c.local === 'Body');
    const operation = body?.children[0];
    if (!operation) return soapFault('INVALID_REQUEST', 'No operation in the SOAP body');
    const args = operation.children;
    switch (operation.local) {
      case 'createMetadata':
      case 'updateMetadata':
      case 'upsertMetadata': {
        const components = args.filter((c) => c.local === 'metadata');
        if (components.length > MAX_COMPONENTS) {
          return soapFault(
            'EXCEEDED_ID_LIMIT',
            `Cannot process more than ${MAX_COMPONENTS} components in one call`,
          );
        }
        const mode =
          operation.local === 'createMetadata'
            ? 'create'
            : operation.local === 'updateMetadata'
              ? 'update'
              : 'upsert';
        const outcomes = components.map((c) => this.save(c, mode));
        return respond(operation.local, outcomes.map((o) => saveResultXml(o, mode === 'upsert')).join(''));
      }
      case 'readMetadata': {
        const type = args.find((c) => c.local === 'type')?.text.trim() ?? '';
        const names = args.filter((c) => c.local === 'fullNames').map((c) => c.text.trim());
        const records = names.map((name) => {
          const md = this.read(type, name);
          return md
            ? toXml('records', { fullName: name, ...withoutFullName(md) }, ` xsi:type="${escapeXml(type)}"`)
            : '<records xsi:nil="true"/>';
        });
        return respond(operation.local, `<result>${records.join('')}</result>`);
      }
      case 'deleteMetadata': {
        const type = args.find((c) => c.local === 'type')?.text.trim() ?? '';
        const names = args.filter((c) => c.local === 'fullNames').map((c) => c.text.trim());
        return respond(
          operation.local,
          names.map((name) => saveResultXml(this.remove(type, name), false)).join(''),
        );
      }
      case 'listMetadata': {
        const types = args
          .filter((c) => c.local === 'queries')
          .map((q) => q.children.find((c) => c.local === 'type')?.text.trim() ?? '');
        const props = types.flatMap((type) => this.list(type));
        return respond(operation.local, props.map((p) => toXml('result', p)).join(''));
      }
      default:
        return soapFault(
          'INVALID_OPERATION',
          `No operation available for request {http://soap.sforce.com/2006/04/metadata}${operation.local}`,
        );
    }
  }

  private save(component: XmlElement, mode: 'create' | 'update' | 'upsert'): SaveOutcome {
    const type = xsiType(component);
    const md = toValue(component) as Record<string, unknown>;
    const fullName = typeof md.fullName === 'string' ? md.fullName : '';
    try {
      let created: boolean;
      if (type === 'CustomField') {
        const [objectName = '', fieldName = ''] = fullName.split('.');
        created = this.org.schema.applyCustomField(withParentRelationship(fieldName, md), mode);
        this.keepMetadata(objectName, fieldName, md);
      } else if (type === 'CustomObject') {
        const fields = asList(md.fields) as Record<string, unknown>[];
        const schemaFields = fields.map((f) => withParentRelationship(String(f.fullName), f));
        created = this.org.schema.applyCustomObject({ ...md, fields: schemaFields }, mode);
        for (const f of fields) this.keepMetadata(fullName, String(f.fullName), f);
      } else {
        created = this.saveDocument(type, fullName, md, mode);
        if (type === 'PermissionSet') this.grantFieldAccess();
      }
      // Unique and External ID flags may have changed: the store rebuilds its indexes on next use.
      for (const obj of this.org.schema.list()) this.org.store.dropIndexes(obj.name);
      const key = `${type}:${fullName}`;
      if (created || !this.createdAt.has(key)) this.createdAt.set(key, formatDateTime(new Date()));
      return { fullName, success: true, created };
    } catch (err) {
      if (!(err instanceof SalesforceError)) throw err;
      return { fullName, success: false, created: false, error: err };
    }
  }

  /** The field's metadata as it was sent (not as handed to the schema), for `readMetadata`. */
  private keepMetadata(objectName: string, fieldName: string, md: Record<string, unknown>): void {
    const field = this.org.schema.object(objectName)?.fields.get(fieldName.toLowerCase());
    if (field?.metadata) field.metadata = { ...md };
  }

  private saveDocument(
    type: string,
    fullName: string,
    md: Record<string, unknown>,
    mode: 'create' | 'update' | 'upsert',
  ): boolean {
    if (!type || !fullName)
      throw new SalesforceError(400, 'INVALID_TYPE', 'metadata needs xsi:type and fullName', ['fullName']);
    const perType = this.documents.get(type) ?? new Map<string, Record<string, unknown>>();
    this.documents.set(type, perType);
    const exists = perType.has(fullName);
    if (exists && mode === 'create') {
      throw new SalesforceError(
        400,
        'DUPLICATE_DEVELOPER_NAME',
        `There is already a ${type} named ${fullName}.`,
        ['fullName'],
      );
    }
    if (!exists && mode === 'update') {
      throw new SalesforceError(
        400,
        'INVALID_CROSS_REFERENCE_KEY',
        `In field: fullName - no ${type} named ${fullName} found`,
        ['fullName'],
      );
    }
    perType.set(fullName, md);
    return !exists;
  }

  private read(type: string, fullName: string): Record<string, unknown> | undefined {
    if (type === 'CustomField') return this.org.schema.readCustomField(fullName);
    if (type === 'CustomObject') return this.org.schema.readCustomObject(fullName);
    return this.documents.get(type)?.get(fullName);
  }

  private remove(type: string, fullName: string): SaveOutcome {
    const removed =
      type === 'CustomField'
        ? this.org.schema.deleteCustomField(fullName)
        : type === 'CustomObject'
          ? this.org.schema.deleteCustomObject(fullName)
          : (this.documents.get(type)?.delete(fullName) ?? false);
    if (!removed) {
      return {
        fullName,
        success: false,
        error: new SalesforceError(
          400,
          'INVALID_CROSS_REFERENCE_KEY',
          `In field: fullName - no ${type} named ${fullName} found`,
        ),
      };
    }
    if (type === 'PermissionSet') this.grantFieldAccess();
    for (const obj of this.org.schema.list()) this.org.store.dropIndexes(obj.name);
    return { fullName, success: true };
  }

  private list(type: string): Record<string, unknown>[] {
    let names: string[];
    if (type === 'CustomObject')
      names = this.org.schema
        .list()
        .filter((o) => o.custom)
        .map((o) => o.name);
    else if (type === 'CustomField') {
      names = this.org.schema
        .list()
        .flatMap((o) =>
          [...o.fields.values()].filter((f) => f.custom && f.metadata).map((f) => `${o.name}.${f.name}`),
        );
    } else names = [...(this.documents.get(type)?.keys() ?? [])];
    return names.map((fullName) => {
      const date = this.createdAt.get(`${type}:${fullName}`) ?? formatDateTime(new Date(0));
      const objectName = fullName.split('.')[0] ?? fullName;
      return {
        createdById: this.org.userId,
        createdByName: 'Sandbox Integration',
        createdDate: date,
        fileName:
          type === 'CustomField' || type === 'CustomObject'
            ? `objects/${objectName}.object`
            : `${type}/${fullName}`,
        fullName,
        id: '',
        lastModifiedById: this.org.userId,
        lastModifiedByName: 'Sandbox Integration',
        lastModifiedDate: date,
        manageableState: 'unmanaged',
        type,
      };
    });
  }
}

function respond(operation: string, inner: string): SoapResponse {
  return {
    status: 200,
    xml: `${ENVELOPE_OPEN}<${operation}Response>${inner}</${operation}Response>${ENVELOPE_CLOSE}`,
  };
}

function saveResultXml(outcome: SaveOutcome, withCreated: boolean): string {
  const errors = outcome.error
    ? toXml('errors', {
        fields: outcome.error.fields,
        message: outcome.error.message,
        statusCode: outcome.error.errorCode,
      })
    : '';
  const created = withCreated ? `<created>${String(outcome.created ?? false)}</created>` : '';
  return `<result>${created}${errors}<fullName>${escapeXml(outcome.fullName)}</fullName><success>${String(outcome.success)}</success></result>`;
}

function xsiType(el: XmlElement): string {
  const entry = Object.entries(el.attrs).find(([k]) => localName(k) === 'type');
  return entry ? localName(entry[1]) : '';
}

function withoutFullName(md: Record<string, unknown>): Record<string, unknown> {
  const { fullName: _ignored, ...rest } = md;
  return rest;
}
