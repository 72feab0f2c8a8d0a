import { describeGlobalEntry, describeSObject } from './describe';
import { SalesforceError, badRequest, notFound } from './errors';
import { normalizeId } from './ids';
import { MultipleChoices, recordUrl, type RecordBody, type SalesforceOrg } from './org';
import type { SObjectDef } from './schema';
import type { SoqlEngine } from './soql';
import type { StoredRecord } from './store';
import { asText } from './values';

/** One REST call, already authenticated; `path` is what follows `/services/data/` (e.g. `v62.0/sobjects/Account`). */
export interface RestRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** `https://host/salesforce`: for the identity URL in the resources list. */
  instanceUrl: string;
  /** The `discardWrites` fault: answer as usual, then undo every write the call made. */
  discardWrites?: boolean;
}

/** What the REST API answers; `body` undefined means no content. */
export interface RestResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A SaveResult of sObject Collections. */
interface SaveResult {
  id?: string;
  success: boolean;
  errors: { statusCode: string; message: string; fields: string[] }[];
  created?: boolean;
}

const MAX_COLLECTION = 200;
const MAX_COMPOSITE = 25;
/** Salesforce's limit on a request-target (see MAX_URI_LENGTH in index.ts), applied to each subrequest's `url`. */
const MAX_SUBREQUEST_URL = 16_384;
const ROLLED_BACK = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};
const HALTED_MESSAGE =
  'The transaction was rolled back since another operation in the same transaction failed.';

/** The REST API of one org: sObject rows, upsert, SOQL, collections, composite and limits. */
export class RestApi {
  constructor(
    private readonly org: SalesforceOrg,
    private readonly soql: SoqlEngine,
    private readonly usage: () => { used: number; max: number },
  ) {}

  /** Serves one call; Salesforce errors become their JSON answer, anything else propagates. */
  handle(req: RestRequest): RestResponse {
    const discard = req.discardWrites ? this.org.store.begin() : undefined;
    try {
      return this.route(req);
    } catch (err) {
      if (err instanceof SalesforceError) return { status: err.status, body: err.toBody() };
      if (err instanceof MultipleChoices) return { status: 300, body: err.urls };
      throw err;
    } finally {
      // The answer is already made from the writes; only the writes themselves go.
      if (discard !== undefined) this.org.store.rollback(discard);
    }
  }

  private route(req: RestRequest): RestResponse {
    const [versionSegment = '', ...segments] = req.path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const versionMatch = /^v(\d{2,3})\.0$/.exec(versionSegment);
    if (!versionMatch) throw notFound();
    const apiVersion = Number(versionMatch[1]);
    const version = `${apiVersion}.0`;
    const method = req.method.toUpperCase();
    const [head, a, b, c, ...extra] = segments;

    if (head === undefined && method === 'GET') return ok(this.resources(version, req.instanceUrl));
    if (head === 'limits' && a === undefined && method === 'GET') return ok(this.limits());
    if ((head === 'query' || head === 'queryAll') && b === undefined && method === 'GET') {
      const batchSize = parseBatchSize(req.headers['sforce-query-options']);
      if (a !== undefined) return ok(this.soql.more(a, { batchSize, apiVersion }));
      const q = req.query.get('q');
      if (!q) throw badRequest('MALFORMED_QUERY', 'A query string has to be specified');
      return ok(this.soql.query(q, { includeDeleted: head === 'queryAll', batchSize, apiVersion }));
    }
    if (head === 'sobjects' && extra.length === 0) return this.sobjects(method, req, apiVersion, a, b, c);
    if (head === 'composite' && apiVersion >= 42) {
      if (a === undefined && method === 'POST' && apiVersion >= 38)
        return ok(this.composite(req, apiVersion));
      if (a === 'batch' && b === undefined && method === 'POST') return ok(this.batch(req));
      if (a === 'sobjects' && extra.length === 0) return this.collections(method, req, apiVersion, b, c);
    }
    throw notFound();
  }

  private sobjects(
    method: string,
    req: RestRequest,
    apiVersion: number,
    type: string | undefined,
    second: string | undefined,
    third: string | undefined,
  ): RestResponse {
    const version = `${apiVersion}.0`;
    if (type === undefined) {
      if (method !== 'GET') throw methodNotAllowed(method);
      return ok({
        encoding: 'UTF-8',
        maxBatchSize: MAX_COLLECTION,
        sobjects: this.org.schema.list().map((o) => describeGlobalEntry(o, version)),
      });
    }
    const obj = this.org.objectForUrl(type);
    if (second === undefined) {
      if (method === 'GET') return ok({ objectDescribe: describeGlobalEntry(obj, version), recentItems: [] });
      if (method !== 'POST') throw methodNotAllowed(method);
      const record = this.org.create(obj, recordBody(req.body));
      const id = String(record.values.Id);
      return {
        status: 201,
        body: { id, success: true, errors: [] },
        headers: { Location: recordUrl(apiVersion, obj.name, id) },
      };
    }
    if (third === undefined) {
      if (second === 'describe' && method === 'GET')
        return ok(describeSObject(this.org.schema, obj, version));
      const record = normalizeId(second) ? this.org.find(obj, second) : undefined;
      if (!record) {
        if (!normalizeId(second))
          throw notFound(`Provided external ID field does not exist or is not accessible: ${second}`);
        throw notFound();
      }
      return this.row(method, req, apiVersion, obj, record);
    }
    // sobjects/{Type}/{ExternalIdField}/{value}
    if (method === 'PATCH' || method === 'POST') {
      const outcome = this.org.upsert(obj, second, third, recordBody(req.body), apiVersion);
      const id = String(outcome.record.values.Id);
      const body =
        apiVersion >= 46
          ? { id, success: true, errors: [], created: outcome.created }
          : { id, success: true, errors: [] };
      if (outcome.created)
        return { status: 201, body, headers: { Location: recordUrl(apiVersion, obj.name, id) } };
      return apiVersion >= 46 ? { status: 200, body } : { status: 204 };
    }
    const field = obj.fields.get(second.toLowerCase());
    if (!field || !(field.externalId || field.name === 'Id')) {
      throw notFound(`Provided external ID field does not exist or is not accessible: ${second}`);
    }
    const matches =
      field.name === 'Id'
        ? [this.org.find(obj, third)].filter(isLive)
        : this.org.matchExternalId(obj, field, third);
    if (matches.length > 1) {
      throw new MultipleChoices(matches.map((r) => recordUrl(apiVersion, obj.name, String(r.values.Id))));
    }
    const [record] = matches;
    if (!record) throw notFound();
    return this.row(method, req, apiVersion, obj, record);
  }

  /** GET, PATCH or DELETE of one record. */
  private row(
    method: string,
    req: RestRequest,
    apiVersion: number,
    obj: SObjectDef,
    record: StoredRecord,
  ): RestResponse {
    if (method === 'GET') {
      if (record.values.IsDeleted === true)
        throw new SalesforceError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
      const fields = req.query.get('fields');
      return ok(
        this.present(obj, record, apiVersion, fields ? fields.split(',').map((f) => f.trim()) : undefined),
      );
    }
    if (method === 'PATCH') {
      this.org.update(obj, record, recordBody(req.body));
      return { status: 204 };
    }
    if (method === 'DELETE') {
      this.org.delete(obj, record);
      return { status: 204 };
    }
    throw methodNotAllowed(method);
  }

  /** A record as REST returns it: `attributes` first, then the asked (or all) fields. */
  private present(
    obj: SObjectDef,
    record: StoredRecord,
    apiVersion: number,
    names?: string[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {
      attributes: { type: obj.name, url: recordUrl(apiVersion, obj.name, String(record.values.Id)) },
    };
    if (names) {
      for (const name of names) {
        const field = this.org.schema.fieldForRead(obj, name);
        if (!field)
          throw badRequest(
            'INVALID_FIELD',
            `No such column '${name}' on entity '${obj.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
          );
        out[field.name] = record.values[field.name] ?? null;
      }
      if (!('Id' in out)) out.Id = record.values.Id;
      return out;
    }
    for (const field of obj.fields.values()) {
      if (this.org.schema.access(obj, field).readable) out[field.name] = record.values[field.name] ?? null; // FLS
    }
    return out;
  }

  private resources(version: string, instanceUrl: string): Record<string, string> {
    const base = `/services/data/v${version}`;
    return {
      sobjects: `${base}/sobjects`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      limits: `${base}/limits`,
      composite: `${base}/composite`,
      identity: `${instanceUrl}/id/${this.org.organizationId}/${this.org.userId}`,
    };
  }

  private limits(): Record<string, unknown> {
    const { used, max } = this.usage();
    return {
      DailyApiRequests: { Max: max, Remaining: Math.max(max - used, 0) },
      DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
      DataStorageMB: { Max: 5, Remaining: 5 },
    };
  }

  /** sObject Collections: create, update, delete, upsert and retrieve up to 200 records in one call. */
  private collections(
    method: string,
    req: RestRequest,
    apiVersion: number,
    type?: string,
    extField?: string,
  ): RestResponse {
    if (type !== undefined && extField === undefined && (method === 'POST' || method === 'GET')) {
      const obj = this.org.objectForUrl(type);
      const body = (method === 'POST' ? req.body : {}) as { ids?: unknown; fields?: unknown };
      const ids =
        method === 'POST' ? asStrings(body.ids) : (req.query.get('ids') ?? '').split(',').filter(Boolean);
      const fields =
        method === 'POST'
          ? asStrings(body.fields)
          : (req.query.get('fields') ?? '').split(',').filter(Boolean);
      checkCount(ids.length);
      return ok(
        ids.map((id) => {
          const record = this.org.find(obj, id);
          return record && record.values.IsDeleted !== true
            ? this.present(obj, record, apiVersion, fields.length > 0 ? fields : undefined)
            : null;
        }),
      );
    }
    if (type !== undefined && extField !== undefined && method === 'PATCH' && apiVersion >= 46) {
      const obj = this.org.objectForUrl(type);
      const { allOrNone, records } = collectionBody(req.body);
      return ok(
        this.saveAll(
          allOrNone,
          records,
          (body) => {
            const value = fieldValue(body, extField);
            if (value === undefined)
              throw badRequest('MISSING_ARGUMENT', `${extField} not specified`, [extField]);
            const outcome = this.org.upsert(this.typeOf(body, obj), extField, value, body, apiVersion);
            return {
              id: String(outcome.record.values.Id),
              success: true,
              errors: [],
              created: outcome.created,
            };
          },
          true,
        ),
      );
    }
    if (type !== undefined) throw notFound();
    if (method === 'POST') {
      const { allOrNone, records } = collectionBody(req.body);
      return ok(
        this.saveAll(allOrNone, records, (body) => {
          const obj = this.typeOf(body);
          if (fieldValue(body, 'Id') !== undefined) {
            throw badRequest('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
          }
          return { id: String(this.org.create(obj, body).values.Id), success: true, errors: [] };
        }),
      );
    }
    if (method === 'PATCH') {
      const { allOrNone, records } = collectionBody(req.body);
      return ok(
        this.saveAll(
          allOrNone,
          records,
          (body) => {
            const obj = this.typeOf(body);
            const id = fieldValue(body, 'Id');
            const record = this.existing(obj, id);
            const rest = Object.fromEntries(Object.entries(body).filter(([k]) => k.toLowerCase() !== 'id'));
            this.org.update(obj, record, rest);
            return { id: String(record.values.Id), success: true, errors: [] };
          },
          false,
          (body) => fieldValue(body, 'Id'),
        ),
      );
    }
    if (method === 'DELETE') {
      const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
      const allOrNone = req.query.get('allOrNone') === 'true';
      return ok(
        this.saveAll(
          allOrNone,
          ids.map((id) => ({ Id: id })),
          (body) => {
            const id = String(body.Id);
            const normalized = normalizeId(id);
            const record = normalized ? this.org.store.get(normalized) : undefined;
            const obj = record ? this.org.schema.object(record.type) : undefined;
            if (!normalized) throw badRequest('MALFORMED_ID', `malformed id ${id}`);
            if (!record || !obj)
              throw badRequest('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
            this.org.delete(obj, record);
            return { id: String(record.values.Id), success: true, errors: [] };
          },
          false,
          (body) => String(body.Id),
        ),
      );
    }
    throw methodNotAllowed(method);
  }

  /**
   * Runs one DML per record in request order. With allOrNone, one failure undoes them all: the failed
   * records keep their error, the others report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  private saveAll(
    allOrNone: boolean,
    records: RecordBody[],
    save: (body: RecordBody) => SaveResult,
    upsert = false,
    idOf: (body: RecordBody) => string | undefined = () => undefined,
  ): SaveResult[] {
    checkCount(records.length);
    const savepoint = this.org.store.begin();
    const results = records.map((body): SaveResult => {
      // Each record is its own savepoint, so a record that fails half-way leaves nothing behind.
      const own = this.org.store.begin();
      try {
        const result = save(body);
        this.org.store.commit();
        return result;
      } catch (err) {
        this.org.store.rollback(own);
        if (!(err instanceof SalesforceError)) throw err;
        const id = idOf(body);
        return {
          ...(id ? { id } : {}),
          success: false,
          errors: [err.toSaveError()],
          ...(upsert ? { created: false } : {}),
        };
      }
    });
    if (allOrNone && results.some((r) => !r.success)) {
      this.org.store.rollback(savepoint);
      return results.map((r, n) => {
        if (!r.success) return r;
        const id = idOf(records[n]!);
        return {
          ...(id ? { id } : {}),
          success: false,
          errors: [ROLLED_BACK],
          ...(upsert ? { created: r.created } : {}),
        };
      });
    }
    this.org.store.commit();
    return results;
  }

  private typeOf(body: RecordBody, fallback?: SObjectDef): SObjectDef {
    const attributes = body.attributes as { type?: unknown } | undefined;
    const type = typeof attributes?.type === 'string' ? attributes.type : undefined;
    if (!type) {
      if (fallback) return fallback;
      throw badRequest('INVALID_TYPE', 'sObject type must be specified in the attributes');
    }
    const obj = this.org.schema.object(type);
    if (!obj) throw badRequest('INVALID_TYPE', `sObject type '${type}' is not supported.`);
    return obj;
  }

  private existing(obj: SObjectDef, id: string | undefined): StoredRecord {
    if (!id) throw badRequest('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
    if (!normalizeId(id))
      throw badRequest('MALFORMED_ID', `${obj.name} ID: id value of incorrect type: ${id}`, ['Id']);
    const record = this.org.find(obj, id);
    if (!record) throw badRequest('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
    return record;
  }

  /**
   * Composite: up to 25 subrequests in order, `@{ref.path}` references between them, one API call.
   * allOrNone runs them as one transaction; a failed reference halts its dependants.
   */
  private composite(req: RestRequest, apiVersion: number): Record<string, unknown> {
    const body = (req.body ?? {}) as { allOrNone?: unknown; compositeRequest?: unknown };
    const subrequests = Array.isArray(body.compositeRequest)
      ? (body.compositeRequest as Record<string, unknown>[])
      : [];
    if (subrequests.length === 0)
      throw badRequest('INVALID_INPUT', 'compositeRequest must contain at least one subrequest');
    if (subrequests.length > MAX_COMPOSITE) {
      // Salesforce answers this inside compositeResponse rather than as a top-level error (reference §3).
      return {
        compositeResponse: [
          {
            body: [
              { errorCode: 'LIMIT_EXCEEDED', message: 'The request can’t contain more than 25 operations.' },
            ],
            httpHeaders: {},
            httpStatusCode: 400,
            referenceId: null,
          },
        ],
      };
    }
    const allOrNone = body.allOrNone === true;
    const results = new Map<string, RestResponse>();
    const out: {
      body: unknown;
      httpHeaders: Record<string, string>;
      httpStatusCode: number;
      referenceId: string;
    }[] = [];
    const savepoint = this.org.store.begin();
    let failedAt = -1;
    for (const [n, sub] of subrequests.entries()) {
      const referenceId = typeof sub.referenceId === 'string' ? sub.referenceId : `ref${n}`;
      let response: RestResponse;
      try {
        const url = asText(substitute(asText(sub.url), results));
        const subBody = substitute(sub.body, results);
        response = this.subrequest(
          asText(sub.method) || 'GET',
          url,
          subBody,
          sub.httpHeaders,
          req.instanceUrl,
          apiVersion,
        );
      } catch (err) {
        if (!(err instanceof SalesforceError)) throw err;
        response = { status: err.status, body: err.toBody() };
      }
      results.set(referenceId, response);
      out.push({
        body: response.body ?? null,
        httpHeaders: response.headers ?? {},
        httpStatusCode: response.status,
        referenceId,
      });
      if (allOrNone && response.status >= 400) {
        failedAt = n;
        break;
      }
    }
    if (failedAt < 0) {
      this.org.store.commit();
      return { compositeResponse: out };
    }
    this.org.store.rollback(savepoint);
    const halted = {
      body: [{ errorCode: 'PROCESSING_HALTED', message: HALTED_MESSAGE }],
      httpHeaders: {},
      httpStatusCode: 400,
    };
    return {
      compositeResponse: subrequests.map((sub, n) => {
        if (n === failedAt) return out[n];
        return { ...halted, referenceId: typeof sub.referenceId === 'string' ? sub.referenceId : `ref${n}` };
      }),
    };
  }

  private subrequest(
    method: string,
    url: string,
    body: unknown,
    headers: unknown,
    instanceUrl: string,
    apiVersion: number,
  ): RestResponse {
    checkUrlLength(url);
    const parsed = new URL(url, 'http://composite.invalid');
    const prefix = '/services/data/';
    if (!parsed.pathname.startsWith(prefix)) {
      throw badRequest('INVALID_URL', `The URL must start with /services/data/v${apiVersion}.0`);
    }
    const path = parsed.pathname.slice(prefix.length);
    if (/^v\d+\.\d\/composite\/?$/.test(path) || /\/composite\/batch/.test(path)) {
      throw badRequest('INVALID_URL', 'A composite request can’t contain another composite or batch request');
    }
    const lowerHeaders: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>))
      lowerHeaders[k.toLowerCase()] = String(v);
    return this.handle({
      method,
      path,
      query: parsed.searchParams,
      headers: lowerHeaders,
      body,
      instanceUrl,
    });
  }

  /** Composite batch: independent subrequests; haltOnError stops after the first failure (412 for the rest). */
  private batch(req: RestRequest): Record<string, unknown> {
    const body = (req.body ?? {}) as { batchRequests?: unknown; haltOnError?: unknown };
    const requests = Array.isArray(body.batchRequests)
      ? (body.batchRequests as Record<string, unknown>[])
      : [];
    if (requests.length > MAX_COMPOSITE)
      throw badRequest('LIMIT_EXCEEDED', 'The request can’t contain more than 25 operations.');
    let halted = false;
    let hasErrors = false;
    const results = requests.map((sub) => {
      if (halted) {
        return {
          statusCode: 412,
          result: [{ errorCode: 'BATCH_PROCESSING_HALTED', message: 'Batch processing halted per request' }],
        };
      }
      const url = asText(sub.url);
      let res: RestResponse;
      if (url.length > MAX_SUBREQUEST_URL) {
        res = { status: 414, body: urlTooLong(url).toBody() };
      } else {
        const parsed = new URL(url.startsWith('/') ? url : `/services/data/${url}`, 'http://batch.invalid');
        const path = parsed.pathname.replace(/^\/services\/data\//, '');
        res = this.handle({
          method: asText(sub.method) || 'GET',
          path,
          query: parsed.searchParams,
          headers: {},
          body: sub.richInput,
          instanceUrl: req.instanceUrl,
        });
      }
      if (res.status >= 400) {
        hasErrors = true;
        if (body.haltOnError === true) halted = true;
      }
      return { statusCode: res.status, result: res.body ?? null };
    });
    return { hasErrors, results };
  }
}

/**
 * A subrequest whose `url` (after reference substitution) is longer than a top-level request-target may be:
 * that subrequest alone answers 414 `[{"errorCode":"URL_TOO_LONG",…}]`. Our model of Salesforce: the status,
 * code and wording are not verified against a live org.
 */
function checkUrlLength(url: string): void {
  if (url.length > MAX_SUBREQUEST_URL) throw urlTooLong(url);
}

function urlTooLong(url: string): SalesforceError {
  return new SalesforceError(
    414,
    'URL_TOO_LONG',
    `The subrequest URL is ${url.length} characters long; the maximum is ${MAX_SUBREQUEST_URL}.`,
  );
}

function ok(body: unknown): RestResponse {
  return { status: 200, body };
}

function methodNotAllowed(method: string): SalesforceError {
  return new SalesforceError(
    405,
    'METHOD_NOT_ALLOWED',
    `HTTP Method '${method}' not allowed. Allowed are GET,PATCH,DELETE`,
  );
}

function isLive(record: StoredRecord | undefined): record is StoredRecord {
  return record !== undefined && record.values.IsDeleted !== true;
}

function recordBody(body: unknown): RecordBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return body as RecordBody;
}

function collectionBody(body: unknown): { allOrNone: boolean; records: RecordBody[] } {
  const b = (body ?? {}) as { allOrNone?: unknown; records?: unknown };
  if (!Array.isArray(b.records)) throw badRequest('JSON_PARSER_ERROR', 'records must be an array');
  return { allOrNone: b.allOrNone === true, records: b.records.map(recordBody) };
}

function checkCount(n: number): void {
  if (n > MAX_COLLECTION) {
    throw badRequest(
      'EXCEEDED_ID_LIMIT',
      'record limit reached. cannot submit more than 200 records into this call',
    );
  }
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => String(v as string)) : [];
}

/** A field's value from a body, matching the name case-insensitively. */
function fieldValue(body: RecordBody, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(body)) {
    if (k.toLowerCase() === lower && v !== null && v !== undefined) return asText(v);
  }
  return undefined;
}

/** `Sforce-Query-Options: batchSize=500`. */
function parseBatchSize(header: string | undefined): number | undefined {
  const match = header ? /batchSize\s*=\s*(\d+)/i.exec(header) : null;
  return match ? Number(match[1]) : undefined;
}

/** Replaces `@{ref.path}` in strings (recursively through objects) with values from earlier subresults. */
function substitute(value: unknown, results: Map<string, RestResponse>): unknown {
  if (typeof value === 'string') {
    const whole = /^@\{([^}]+)\}$/.exec(value);
    if (whole) return lookupReference(whole[1]!, results);
    return value.replace(/@\{([^}]+)\}/g, (_m, expr: string) => asText(lookupReference(expr, results)));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, results));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, results)]));
  }
  return value;
}

function lookupReference(expr: string, results: Map<string, RestResponse>): unknown {
  // `ref.records[0].Id`, `ref[0].id`: a reference id, then property names and array indexes.
  const refId = /^[^.[]+/.exec(expr)?.[0] ?? '';
  const result = results.get(refId);
  let current: unknown = result && result.status < 400 ? result.body : undefined;
  for (const step of expr.slice(refId.length).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (step[1] !== undefined) {
      current =
        current && typeof current === 'object' ? (current as Record<string, unknown>)[step[1]] : undefined;
    } else {
      current = Array.isArray(current) ? (current as unknown[])[Number(step[2])] : undefined;
    }
  }
  if (current === undefined || current === null) {
    throw badRequest(
      'PROCESSING_HALTED',
      `Invalid reference specified. No value for ${expr} found in ${refId}.`,
    );
  }
  return current;
}
