import type { Connection } from 'jsforce';
import { SalesforceError } from './errors';

// One event, one Salesforce API call: a Composite request whose later subrequests depend on earlier ones
// through references (`@{ref.records[0].Id}`). With allOrNone off, a reference to an empty query result
// halts only its dependants (PROCESSING_HALTED), which gives the conditional writes the sync needs:
// "create if absent" (a create that meets the unique External ID fails with DUPLICATE_VALUE) and
// "update only if what is stored is older" (a PATCH of the record a guarded query found).

/** A SOQL string literal: quotes and backslashes escaped (jsforce's builder escapes only quotes). */
export function soql(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A reference to the first record of a query subrequest: the request halts its dependants when it found nothing. */
export function firstRecord(ref: string, field = 'Id'): string {
  return `@{${ref}.records[0].${field}}`;
}

interface Subrequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  referenceId: string;
  body?: Record<string, unknown>;
}

/** What a subrequest answered. */
export interface SubResult {
  referenceId: string;
  httpStatusCode: number;
  body: unknown;
}

/** Codes that are part of the plan rather than failures: the create met its record, or a condition was false. */
const EXPECTED = new Set(['DUPLICATE_VALUE', 'PROCESSING_HALTED']);

/** Builds one Composite request (≤ 25 subrequests). */
export class CompositePlan {
  private readonly subrequests: Subrequest[] = [];

  constructor(private readonly apiVersion: string) {}

  get size(): number {
    return this.subrequests.length;
  }

  private url(path: string): string {
    return `/services/data/v${this.apiVersion}/${path}`;
  }

  /** A SOQL query; later subrequests may reference `firstRecord(ref)`. */
  query(ref: string, q: string): this {
    this.subrequests.push({
      method: 'GET',
      url: this.url(`query?q=${encodeURIComponent(q)}`),
      referenceId: ref,
    });
    return this;
  }

  /** A SOQL query that also sees the recycle bin (deleted records, `IsDeleted = true`). */
  queryAll(ref: string, q: string): this {
    this.subrequests.push({
      method: 'GET',
      url: this.url(`queryAll?q=${encodeURIComponent(q)}`),
      referenceId: ref,
    });
    return this;
  }

  /** A create: with a unique External ID in `body`, it fails with DUPLICATE_VALUE when the record exists. */
  create(ref: string, type: string, body: Record<string, unknown>): this {
    this.subrequests.push({ method: 'POST', url: this.url(`sobjects/${type}`), referenceId: ref, body });
    return this;
  }

  /** An update of one record; `id` may be a reference, which makes the update conditional. */
  update(ref: string, type: string, id: string, body: Record<string, unknown>): this {
    this.subrequests.push({
      method: 'PATCH',
      url: this.url(`sobjects/${type}/${id}`),
      referenceId: ref,
      body,
    });
    return this;
  }

  /** A delete of one record; `id` may be a reference. */
  delete(ref: string, type: string, id: string): this {
    this.subrequests.push({ method: 'DELETE', url: this.url(`sobjects/${type}/${id}`), referenceId: ref });
    return this;
  }

  /** Deletes up to 200 records by id in one subrequest (sObject Collections). */
  deleteMany(ref: string, ids: readonly string[]): this {
    this.subrequests.push({
      method: 'DELETE',
      url: this.url(`composite/sobjects?ids=${ids.join(',')}&allOrNone=false`),
      referenceId: ref,
    });
    return this;
  }

  /** Updates up to 200 records in one subrequest (sObject Collections); each record carries `attributes.type` and `Id`. */
  updateMany(ref: string, type: string, records: readonly Record<string, unknown>[]): this {
    this.subrequests.push({
      method: 'PATCH',
      url: this.url('composite/sobjects'),
      referenceId: ref,
      body: { allOrNone: true, records: records.map((r) => ({ attributes: { type }, ...r })) },
    });
    return this;
  }

  /**
   * Sends the plan as one API call. `allOrNone` makes it one transaction (no conditional subrequests then). It
   * throws the first failure that is not part of the plan, unless `check` is false: then the caller reads
   * `failure()` per group of subrequests (some may have applied while others failed).
   */
  async send(conn: Connection, { allOrNone = false, check = true } = {}): Promise<CompositeResult> {
    if (this.subrequests.length === 0) return new CompositeResult([], allOrNone);
    if (this.subrequests.length > 25)
      throw new Error(`a composite request takes at most 25 subrequests, not ${this.subrequests.length}`);
    const answer = await conn.requestPost<{ compositeResponse: SubResult[] }>('/composite', {
      allOrNone,
      collateSubrequests: false,
      compositeRequest: this.subrequests,
    });
    const deletes = new Set(this.subrequests.filter((r) => r.method === 'DELETE').map((r) => r.referenceId));
    const result = new CompositeResult(answer.compositeResponse, allOrNone, deletes);
    if (check) {
      const failure = result.failure();
      if (failure) throw failure;
    }
    return result;
  }
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
  return (r.body as { success?: boolean; errors?: ErrorItem[] }[]).flatMap((item) =>
    item && item.success === false ? (item.errors ?? []) : [],
  );
}

/** A record that is already gone is what a delete wants. */
const GONE = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

/** The answer to a composite request, read by reference id. */
export class CompositeResult {
  private readonly byRef: Map<string, SubResult>;

  constructor(
    results: SubResult[],
    private readonly allOrNone: boolean,
    private readonly deletes: ReadonlySet<string> = new Set(),
  ) {
    this.byRef = new Map(results.map((r) => [r.referenceId, r]));
  }

  /**
   * The first failure that is not part of the plan, among `refs` (every subrequest when absent), as a
   * `SalesforceError` the classifier understands; undefined when there is none.
   */
  failure(refs?: readonly string[]): SalesforceError | undefined {
    const results = refs ? refs.flatMap((r) => this.byRef.get(r) ?? []) : [...this.byRef.values()];
    for (const result of results) {
      for (const item of errorsOf(result)) {
        const code = item.errorCode ?? item.statusCode ?? `ERROR_HTTP_${result.httpStatusCode}`;
        if (this.deletes.has(result.referenceId) && GONE.has(code)) continue;
        // In one transaction, PROCESSING_HALTED / rolled back only echo the subrequest that failed.
        if (EXPECTED.has(code) && !this.allOrNone) continue;
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

  /** The records a query subrequest returned (none when it failed or halted). */
  records<T = Record<string, unknown>>(ref: string): T[] {
    const r = this.byRef.get(ref);
    if (!r || r.httpStatusCode >= 300) return [];
    return (r.body as { records?: T[] }).records ?? [];
  }

  /** The id a create subrequest returned. */
  createdId(ref: string): string | undefined {
    return this.succeeded(ref) ? (this.byRef.get(ref)?.body as { id?: string }).id : undefined;
  }
}
