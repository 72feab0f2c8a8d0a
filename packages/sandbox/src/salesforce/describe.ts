import type { FieldDef, SObjectDef, Schema } from './schema';

const SOAP_TYPES: Record<FieldDef['type'], string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  boolean: 'xsd:boolean',
  double: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  anyType: 'xsd:anyType',
};

/** An entry of `GET /sobjects` (describeGlobal). */
export function describeGlobalEntry(obj: SObjectDef, apiVersion: string): Record<string, unknown> {
  const base = `/services/data/v${apiVersion}/sobjects/${obj.name}`;
  return {
    name: obj.name,
    label: obj.label,
    labelPlural: obj.labelPlural,
    keyPrefix: obj.keyPrefix,
    custom: obj.custom,
    createable: obj.writable,
    updateable: obj.writable,
    deletable: obj.writable,
    queryable: true,
    retrieveable: true,
    searchable: true,
    layoutable: true,
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

/** `GET /sobjects/{Type}/describe`: the object with its fields and child relationships. */
export function describeSObject(
  schema: Schema,
  obj: SObjectDef,
  apiVersion: string,
): Record<string, unknown> {
  const childRelationships = schema.list().flatMap((child) =>
    [...child.fields.values()]
      .filter((f) => f.type === 'reference' && f.referenceTo === obj.name)
      .map((f) => ({
        childSObject: child.name,
        field: f.name,
        relationshipName: childRelationshipName(child, f),
        cascadeDelete: f.name === 'AccountId' || f.metadata?.type === 'MasterDetail',
      })),
  );
  // Field-level security, as the integration user sees it: a field it may not read is not listed; one it may not
  // edit is listed neither createable nor updateable.
  const fields = [...obj.fields.values()]
    .filter((f) => schema.access(obj, f).readable)
    .map((f) => ({
      ...describeField(f),
      createable: schema.canWrite(obj, f, 'create'),
      updateable: schema.canWrite(obj, f, 'update'),
    }));
  return {
    ...describeGlobalEntry(obj, apiVersion),
    fields,
    childRelationships,
    recordTypeInfos: [],
  };
}

function childRelationshipName(child: SObjectDef, field: FieldDef): string | null {
  if (field.name === 'AccountId' && child.name === 'Contact') return 'Contacts';
  if (field.custom) return `${child.labelPlural.replace(/\W+/g, '_')}__r`;
  return null;
}

function describeField(field: FieldDef): Record<string, unknown> {
  return {
    name: field.name,
    label: field.label,
    type: field.type,
    soapType: SOAP_TYPES[field.type],
    length: field.length ?? 0,
    precision: field.precision ?? 0,
    scale: field.scale ?? 0,
    custom: field.custom,
    nillable: !field.required && field.type !== 'boolean' && field.name !== 'Id',
    createable: field.createable,
    updateable: field.updateable,
    unique: field.unique,
    externalId: field.externalId,
    idLookup: field.name === 'Id' || field.externalId,
    caseSensitive: field.caseSensitive,
    calculated: field.calculated,
    autoNumber: field.autoNumber,
    defaultedOnCreate:
      field.type === 'boolean' || field.autoNumber || ['Id', 'OwnerId', 'CreatedDate'].includes(field.name),
    filterable: field.type !== 'textarea',
    sortable: field.type !== 'textarea',
    groupable: field.type !== 'textarea' && field.type !== 'double' && field.type !== 'datetime',
    referenceTo: field.referenceTo ? [field.referenceTo] : [],
    relationshipName: field.relationshipName ?? null,
    picklistValues: [],
    defaultValue: null,
  };
}
