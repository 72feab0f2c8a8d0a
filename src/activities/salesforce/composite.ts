// Composite requests as clerk-sync builds them (no I/O here; engine.ts sends them). Conditional writes rest on
// composite references (`@{ref.records[0].Id}`): with allOrNone off, a reference to an empty query result halts only
// its dependants (PROCESSING_HALTED), which gives "create if absent" (a create that meets the unique External ID fails
// with DUPLICATE_VALUE) and "update only if what is stored is older" (a PATCH of the record a guarded query found)
// inside one request.

import { SalesforceError } from '../errors';

/** Salesforce's limits, in one place. */
export const SALESFORCE_LIMITS = {
  /** Records per sObject Collections request (EXCEEDED_ID_LIMIT past it). */
  collection: 200,
  /** Subrequests per Composite request (LIMIT_EXCEEDED past it). */
  composite: 25,
  /** Rows per query page: Salesforce's default and largest batch; more comes through `nextRecordsUrl`. */
  queryPage: 2000,
  /**
   * Characters of SOQL sent in one URL. Salesforce rejects a request URI past ~16 KB (414); the rest of the URL
   * (instance, version, `query?q=`) and a margin for proxies stay under the remaining 4 KB.
   */
  queryUrl: 12_000,
} as const;

/** A SOQL string literal: quotes and backslashes escaped (jsforce's builder escapes only quotes). */
export function soql(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A composite reference made by this code (`@{ref.path}`); any other string is sent as the literal it is. */
export class Ref {
  constructor(
    readonly ref: string,
    readonly path: string,
  ) {}
  toJSON(): string {
    return `@{${this.ref}.${this.path}}`;
  }
  toString(): string {
    return this.toJSON();
  }
}

/** A reference to the first record of a query subrequest: the request halts its dependants when it found nothing. */
export function firstRecord(ref: string, field = 'Id'): Ref {
  return new Ref(ref, `records[0].${field}`);
}

export type Body = Record<string, unknown>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface Subrequest {
  method: Method;
  /** Path after `/services/data/vNN.0/`, with references in it. */
  path: (string | Ref)[];
  referenceId: string;
  body?: Body;
  /** sObject Collections writes: the records (their literal fields are checked one by one). */
  records?: Body[];
  type?: string;
}

/** What a subrequest answered. */
export interface SubResult {
  referenceId: string;
  httpStatusCode: number;
  body: unknown;
}

/** A save result of sObject Collections (`statusCode`, not `errorCode`, in its errors). */
export interface SaveResult {
  id?: string;
  success: boolean;
  errors?: { statusCode?: string; errorCode?: string; message?: string }[];
}

/** Codes that are part of the plan rather than failures: the create met its record, or a condition was false. */
const EXPECTED = new Set(['DUPLICATE_VALUE', 'PROCESSING_HALTED']);
/** A record that is already gone is what a delete wants. */
export const GONE = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

/**
 * Builds Composite requests. Any number of subrequests: the engine sends them in order, as few Composite calls of
 * ≤ 25 as their references allow (a subrequest travels with every subrequest it references).
 */
export class CompositePlan {
  readonly subrequests: Subrequest[] = [];
  /** `queryIn` refs and the query subrequests behind each. */
  readonly lists = new Map<string, string[]>();

  /** A SOQL query; later subrequests may reference `firstRecord(ref)`. Every page is read. */
  query(ref: string, q: string): this {
    return this.add({ method: 'GET', path: [`query?q=${encodeURIComponent(q)}`], referenceId: ref });
  }

  /**
   * A query over a list of values (`build` turns a SOQL list `('a', 'b')` into the query), cut into as many
   * queries as keep each URL within Salesforce's limit; `records(ref)` gives what they all found.
   */
  queryIn(ref: string, values: Iterable<string>, build: (list: string) => string): this {
    const queries = inLists(values, build);
    this.lists.set(
      ref,
      queries.map((_, i) => `${ref}_${i}`),
    );
    queries.forEach((q, i) => this.query(`${ref}_${i}`, q));
    return this;
  }

  /** A SOQL query that also sees the recycle bin (deleted records, `IsDeleted = true`). */
  queryAll(ref: string, q: string): this {
    return this.add({ method: 'GET', path: [`queryAll?q=${encodeURIComponent(q)}`], referenceId: ref });
  }

  /** A create: with a unique External ID in `body`, it fails with DUPLICATE_VALUE when the record exists. */
  create(ref: string, type: string, body: Body): this {
    return this.add({ method: 'POST', path: [`sobjects/${type}`], referenceId: ref, body, type });
  }

  /** An update of one record; `id` may be a reference, which makes the update conditional. */
  update(ref: string, type: string, id: string | Ref, body: Body): this {
    return this.add({ method: 'PATCH', path: [`sobjects/${type}/`, id], referenceId: ref, body, type });
  }

  /** A delete of one record; `id` may be a reference. */
  delete(ref: string, type: string, id: string | Ref): this {
    return this.add({ method: 'DELETE', path: [`sobjects/${type}/`, id], referenceId: ref });
  }

  /** Creates up to 200 records in one subrequest (sObject Collections; allOrNone off: each record on its own). */
  createMany(ref: string, type: string, records: readonly Body[]): this {
    checkCollection(records);
    return this.add({
      method: 'POST',
      path: ['composite/sobjects'],
      referenceId: ref,
      records: [...records],
      type,
    });
  }

  /** Updates up to 200 records by `Id` in one subrequest (sObject Collections). */
  updateMany(ref: string, type: string, records: readonly Body[]): this {
    checkCollection(records);
    return this.add({
      method: 'PATCH',
      path: ['composite/sobjects'],
      referenceId: ref,
      records: [...records],
      type,
    });
  }

  /** Deletes up to 200 records by id in one subrequest (sObject Collections). */
  deleteMany(ref: string, ids: readonly string[]): this {
    checkCollection(ids);
    return this.add({
      method: 'DELETE',
      path: [`composite/sobjects?ids=${ids.join(',')}&allOrNone=false`],
      referenceId: ref,
    });
  }

  private add(sub: Subrequest): this {
    if (this.subrequests.some((s) => s.referenceId === sub.referenceId))
      throw new Error(`composite reference id used twice: ${sub.referenceId}`);
    this.subrequests.push(sub);
    return this;
  }
}

function checkCollection(items: readonly unknown[]): void {
  if (items.length === 0 || items.length > SALESFORCE_LIMITS.collection)
    throw new Error(
      `an sObject Collection takes 1–${SALESFORCE_LIMITS.collection} records, not ${items.length}`,
    );
}

/** The references a subrequest makes, to other subrequests. */
function referencesOf(sub: Subrequest): Set<string> {
  const found = new Set<string>();
  const visit = (v: unknown) => {
    if (v instanceof Ref) found.add(v.ref);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(sub.path);
  visit(sub.body);
  visit(sub.records);
  return found;
}

/**
 * Cuts subrequests into Composite requests of ≤ 25, in order, keeping each subrequest with the ones it references
 * (connected groups travel together).
 */
export function partition(subrequests: Subrequest[]): Subrequest[][] {
  const group = new Map<string, number>();
  const parent: number[] = [];
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  subrequests.forEach((sub, i) => {
    parent[i] = i;
    group.set(sub.referenceId, i);
    for (const ref of referencesOf(sub)) {
      const j = group.get(ref);
      if (j === undefined)
        throw new Error(`${sub.referenceId} references ${ref}, which comes later or nowhere`);
      parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, number[]>();
  subrequests.forEach((_, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), i]);
  });
  const chunks: number[][] = [];
  let current: number[] = [];
  for (const members of groups.values()) {
    if (members.length > SALESFORCE_LIMITS.composite)
      throw new Error(`${members.length} dependent subrequests cannot share one composite request`);
    if (current.length + members.length > SALESFORCE_LIMITS.composite) {
      chunks.push(current);
      current = [];
    }
    current.push(...members);
  }
  if (current.length > 0) chunks.push(current);
  return chunks.map((c) => c.sort((a, b) => a - b).map((i) => subrequests[i]!));
}

interface ErrorItem {
  errorCode?: string;
  statusCode?: string;
  message?: string;
}

/** A subrequest's errors: the REST error array, or the failed items of an sObject Collections answer. */
function errorsOf(r: SubResult): ErrorItem[] {
  if (!Array.isArray(r.body)) return [];
  if (r.httpStatusCode >= 400) return r.body as ErrorItem[];
  return (r.body as SaveResult[]).flatMap((item) =>
    item && item.success === false ? (item.errors ?? []) : [],
  );
}

/** The answer to a plan, read by reference id (every page of every query included). */
export class CompositeResult {
  private readonly byRef = new Map<string, SubResult>();

  constructor(
    results: SubResult[],
    private readonly allOrNone: boolean,
    private readonly deletes: ReadonlySet<string> = new Set(),
    private readonly lists: ReadonlyMap<string, string[]> = new Map(),
  ) {
    for (const r of results) this.byRef.set(r.referenceId, r);
  }

  /**
   * The first failure that is not part of the plan, among `refs` (every subrequest when absent), as a
   * `SalesforceError` the classifier understands; undefined when there is none.
   */
  failure(refs?: readonly string[]): SalesforceError | undefined {
    const results = refs
      ? refs.flatMap((r) => (this.lists.get(r) ?? [r]).flatMap((part) => this.byRef.get(part) ?? []))
      : [...this.byRef.values()];
    for (const result of results) {
      for (const item of errorsOf(result)) {
        const code = item.errorCode ?? item.statusCode ?? `ERROR_HTTP_${result.httpStatusCode}`;
        if (this.deletes.has(result.referenceId) && GONE.has(code)) continue;
        // Inside a collection, a DUPLICATE_VALUE is a record's own outcome: the caller reads `saves()`.
        if (EXPECTED.has(code) && !this.allOrNone) continue;
        // In one transaction, PROCESSING_HALTED / rolled back only echo the subrequest that failed.
        if (this.allOrNone && (code === 'PROCESSING_HALTED' || code === 'ALL_OR_NONE_OPERATION_ROLLED_BACK'))
          continue;
        return new SalesforceError(
          code,
          `${result.referenceId}: ${item.message ?? 'failed'}`,
          result.httpStatusCode,
        );
      }
    }
    return undefined;
  }

  /** True when the subrequest succeeded (2xx). */
  succeeded(ref: string): boolean {
    const r = this.byRef.get(ref);
    return r !== undefined && r.httpStatusCode < 300;
  }

  /** The records a query subrequest returned, every page (none when it failed or halted). */
  records<T = Record<string, unknown>>(ref: string): T[] {
    const parts = this.lists.get(ref);
    if (parts) return parts.flatMap((part) => this.records<T>(part));
    const r = this.byRef.get(ref);
    if (!r || r.httpStatusCode >= 300) return [];
    return (r.body as { records?: T[] }).records ?? [];
  }

  /** The per-record results of an sObject Collections subrequest (empty when the whole subrequest failed). */
  saves(ref: string): SaveResult[] {
    const r = this.byRef.get(ref);
    return r && r.httpStatusCode < 300 && Array.isArray(r.body) ? (r.body as SaveResult[]) : [];
  }

  /**
   * Each record's result of an sObject Collections subrequest of `count` records; when the subrequest failed as a
   * whole, that failure for each record.
   */
  outcomes(ref: string, count: number): SaveResult[] {
    const saves = this.saves(ref);
    const whole = this.codeOf(ref) ?? 'NO_RESULT';
    return Array.from(
      { length: count },
      (_, k) => saves[k] ?? { success: false, errors: [{ statusCode: whole }] },
    );
  }

  /** The whole subrequest's failure code, when it failed as a whole. */
  codeOf(ref: string): string | undefined {
    const r = this.byRef.get(ref);
    if (!r || r.httpStatusCode < 300) return undefined;
    const [item] = errorsOf(r);
    return item?.errorCode ?? item?.statusCode ?? `ERROR_HTTP_${r.httpStatusCode}`;
  }

  /** @internal The raw answer, for the engine's follow-ups. */
  raw(ref: string): SubResult | undefined {
    return this.byRef.get(ref);
  }
}

/** A save result's error code (`statusCode` in collections, `errorCode` elsewhere). */
export const saveCode = (r: SaveResult | undefined): string =>
  r?.errors?.[0]?.statusCode ?? r?.errors?.[0]?.errorCode ?? 'NO_RESULT';

/**
 * Cuts `values` into SOQL lists whose query, URL-encoded, stays within `SALESFORCE_LIMITS.queryUrl`; the queries
 * `build` makes of them. Empty when there are no values.
 */
export function inLists(values: Iterable<string>, build: (list: string) => string): string[] {
  const overhead = encodeURIComponent(build('()')).length;
  const queries: string[] = [];
  let current: string[] = [];
  let size = overhead;
  for (const value of new Set(values)) {
    const item = encodeURIComponent(`${soql(value)}, `).length;
    if (overhead + item > SALESFORCE_LIMITS.queryUrl)
      throw new Error('a single value does not fit a query URL');
    if (current.length > 0 && size + item > SALESFORCE_LIMITS.queryUrl) {
      queries.push(build(`(${current.map(soql).join(', ')})`));
      current = [];
      size = overhead;
    }
    current.push(value);
    size += item;
  }
  if (current.length > 0) queries.push(build(`(${current.map(soql).join(', ')})`));
  return queries;
}
