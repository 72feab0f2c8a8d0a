import { heartbeat } from '@temporalio/activity';
import type { Connection } from 'jsforce';
import { SalesforceError } from '../errors';
import {
  CompositePlan,
  CompositeResult,
  partition,
  Ref,
  SALESFORCE_LIMITS,
  saveCode,
  type Body,
  type SaveResult,
  type Subrequest,
  type SubResult,
} from './composite';

export * from './composite';

// Every Salesforce call of the product goes through this module: the sync's conditional writes, the deletions of
// large organizations and the backfill. It knows Salesforce's limits (composite.ts states them once) so that no
// caller can forget one: queries are followed through every page (`nextRecordsUrl`), composite query subrequests
// included; `IN (…)` lists are cut so that no URL comes near Salesforce's ~16 KB limit; many records go out as
// sObject Collections packed into as few Composite calls as the limits allow; and a field value is written exactly
// as given, even one that contains `@{…}`, which Salesforce would otherwise read as a composite reference.

/** A page of query results. */
interface QueryPage {
  records: unknown[];
  nextRecordsUrl?: string;
  done: boolean;
}

const hasLiteralReference = (v: unknown): v is string => typeof v === 'string' && v.includes('@{');
/** Same length (Salesforce field limits), and nothing Salesforce reads as a reference. */
const placeholder = (v: string) => v.replaceAll('@{', '@(');

/** Fields whose literal value contains `@{`: written right after the composite, outside it, by record Id. */
interface Deferred {
  type: string;
  /** Where the record's Id comes from once the composite answered. */
  id: (res: CompositeResult) => string | undefined;
  fields: Body;
}

/** The engine over one authenticated connection; `onCall` runs after every API call (activities heartbeat there). */
export class SalesforceEngine {
  /** API calls made through this engine (each Composite, query page and Collections call is one). */
  calls = 0;

  constructor(
    private readonly conn: Connection,
    readonly apiVersion: string,
    private readonly onCall: () => void = () => undefined,
  ) {}

  private base(): string {
    return `/services/data/v${this.apiVersion}`;
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    const result = await run();
    this.calls += 1;
    this.onCall();
    return result;
  }

  /**
   * Sends a plan: as few Composite calls as its size and references allow, in order; every page of every query
   * read. `allOrNone` makes it one transaction (the plan must then fit one call). Throws the first failure that is
   * not part of the plan, unless `check` is false: then the caller reads `failure()` per group of subrequests.
   */
  async send(plan: CompositePlan, { allOrNone = false, check = true } = {}): Promise<CompositeResult> {
    const chunks = partition(plan.subrequests);
    if (allOrNone && chunks.length > 1) throw new Error('an allOrNone plan must fit one composite request');
    const results: SubResult[] = [];
    const deferred: Deferred[] = [];
    for (const chunk of chunks) {
      const compositeRequest = chunk.map((sub) => this.wire(sub, deferred));
      const answer = await this.call(() =>
        this.conn.requestPost<{ compositeResponse: SubResult[] }>('/composite', {
          allOrNone,
          collateSubrequests: false,
          compositeRequest,
        }),
      );
      results.push(...answer.compositeResponse);
    }
    for (const r of results) await this.readRemainingPages(r);
    const deletes = new Set(plan.subrequests.filter((s) => s.method === 'DELETE').map((s) => s.referenceId));
    const result = new CompositeResult(results, allOrNone, deletes, plan.lists);
    await this.writeLiterals(deferred, result);
    if (check) {
      const failure = result.failure();
      if (failure) throw failure;
    }
    return result;
  }

  /** A subrequest as Salesforce takes it; literal `@{` values are swapped for placeholders and deferred. */
  private wire(sub: Subrequest, deferred: Deferred[]): Record<string, unknown> {
    const url = `${this.base()}/${sub.path.map(String).join('')}`;
    const wire: Record<string, unknown> = { method: sub.method, url, referenceId: sub.referenceId };
    if (sub.records) {
      wire.body = {
        allOrNone: false,
        records: sub.records.map((record, i) => {
          const literal = literalFields(record);
          if (!literal) return { attributes: { type: sub.type }, ...record };
          deferred.push({
            type: sub.type!,
            id: (res) =>
              sub.method === 'POST'
                ? res.saves(sub.referenceId)[i]?.success
                  ? res.saves(sub.referenceId)[i]!.id
                  : undefined
                : res.saves(sub.referenceId)[i]?.success
                  ? String(record.Id)
                  : undefined,
            fields: literal.fields,
          });
          return { attributes: { type: sub.type }, ...literal.safe };
        }),
      };
    } else if (sub.body) {
      const literal = literalFields(sub.body);
      wire.body = literal ? literal.safe : sub.body;
      if (literal) {
        deferred.push({ type: sub.type!, id: (res) => idWritten(sub, res), fields: literal.fields });
      }
    }
    return wire;
  }

  /** The exact values of deferred fields, by Id, in sObject Collections calls (which read no references). */
  private async writeLiterals(deferred: Deferred[], res: CompositeResult): Promise<void> {
    const records = deferred.flatMap((d) => {
      const id = d.id(res);
      return id ? [{ attributes: { type: d.type }, Id: id, ...d.fields }] : [];
    });
    for (let i = 0; i < records.length; i += SALESFORCE_LIMITS.collection) {
      const slice = records.slice(i, i + SALESFORCE_LIMITS.collection);
      const saved = await this.call(() =>
        this.conn.request<SaveResult[]>({
          method: 'PATCH',
          url: `${this.base()}/composite/sobjects`,
          body: JSON.stringify({ allOrNone: false, records: slice }),
          headers: { 'content-type': 'application/json' },
        }),
      );
      const failed = saved.find((r) => !r.success);
      if (failed)
        throw new SalesforceError(
          saveCode(failed),
          `literal values: ${failed.errors?.[0]?.message ?? 'failed'}`,
        );
    }
  }

  /** Follows a query subrequest's `nextRecordsUrl` to its end and puts every record in its result. */
  private async readRemainingPages(r: SubResult): Promise<void> {
    const body = r.body as { done?: boolean; nextRecordsUrl?: string; records?: unknown[] } | null;
    if (r.httpStatusCode >= 300 || !body || body.done !== false || !body.nextRecordsUrl) return;
    const records = [...(body.records ?? [])];
    let next: string | undefined = body.nextRecordsUrl;
    while (next) {
      const url: string = next;
      const page: QueryPage = await this.call(() => this.conn.request<QueryPage>({ method: 'GET', url }));
      records.push(...page.records);
      next = page.done ? undefined : page.nextRecordsUrl;
    }
    r.body = { ...body, done: true, nextRecordsUrl: undefined, records };
  }

  /** Every record a query returns, page after page. */
  async query<T = Record<string, unknown>>(q: string): Promise<T[]> {
    const res = await this.send(new CompositePlan().query('q', q));
    return res.records<T>('q');
  }

  /**
   * Every record of a query over a list of values (`build` turns a SOQL list `('a', 'b')` into the query): the list
   * is cut so that each query's URL stays within Salesforce's limit, and the queries go 25 to a Composite call.
   */
  async queryIn<T = Record<string, unknown>>(
    values: Iterable<string>,
    build: (list: string) => string,
  ): Promise<T[]> {
    const plan = new CompositePlan().queryIn('in', values, build);
    if (plan.subrequests.length === 0) return [];
    return (await this.send(plan)).records<T>('in');
  }
}

/** A body's fields whose value contains `@{`, and the body with placeholders instead; null when there are none. */
function literalFields(body: Body): { safe: Body; fields: Body } | null {
  const fields: Body = {};
  const safe: Body = {};
  for (const [k, v] of Object.entries(body)) {
    if (hasLiteralReference(v)) {
      fields[k] = v;
      safe[k] = placeholder(v);
    } else safe[k] = v;
  }
  return Object.keys(fields).length > 0 ? { safe, fields } : null;
}

/** The Id of the record a single create or update subrequest wrote; undefined when it did not write. */
function idWritten(sub: Subrequest, res: CompositeResult): string | undefined {
  const r = res.raw(sub.referenceId);
  if (!r || r.httpStatusCode >= 300) return undefined;
  if (sub.method === 'POST') return (r.body as { id?: string } | null)?.id;
  const id = sub.path[1];
  if (id instanceof Ref) {
    const record = res.records<Record<string, unknown>>(id.ref)[0];
    const field = /^records\[0\]\.(\w+)$/.exec(id.path)?.[1];
    const value = field ? record?.[field] : undefined;
    return typeof value === 'string' ? value : undefined;
  }
  return id;
}

/** Gives an authenticated jsforce connection; the session is shared by all activities of a worker. */
export interface SalesforceSession {
  connection(): Promise<Connection>;
  readonly apiVersion: string;
}

/**
 * An engine over the worker's session for an activity: it heartbeats after every call, with `progress()` as the
 * details, so that a long activity shows it is alive and a retry can carry its counts on.
 */
export async function engineFor(
  session: SalesforceSession,
  progress?: () => unknown,
): Promise<SalesforceEngine> {
  return new SalesforceEngine(await session.connection(), session.apiVersion, () => heartbeat(progress?.()));
}
