import type { ServiceName } from './types';

/** One request a stand-in received, as the sandbox answered it. */
export interface CallRecord {
  service: ServiceName;
  method: string;
  /** Path inside the service (after `/<service>`). */
  path: string;
  query: Record<string, string | string[]>;
  status: number;
  durationMs: number;
  /** Epoch ms when the request arrived. */
  at: number;
  /** Id of the fault rule that answered instead of the service, if any. */
  faultId?: string;
  /** True when the client went away before an answer (a hang, or a client timeout). */
  aborted?: boolean;
  /** The status the service answered when a `dropResponse` fault then dropped that answer (`status` is then 0). */
  droppedStatus?: number;
}

/** Per-service call log; each service keeps its newest `limit` calls so benchmark runs stay bounded. */
export class CallLog {
  private readonly byService = new Map<ServiceName, CallRecord[]>();
  private readonly totals = new Map<ServiceName, number>();

  constructor(private readonly limit = 20_000) {}

  /** Appends one call, dropping the oldest of that service beyond the limit. */
  record(call: CallRecord): void {
    let list = this.byService.get(call.service);
    if (!list) this.byService.set(call.service, (list = []));
    list.push(call);
    // Drop in chunks: shifting one at a time is O(n) per call at the limit.
    if (list.length > this.limit * 1.25) list.splice(0, list.length - this.limit);
    this.totals.set(call.service, (this.totals.get(call.service) ?? 0) + 1);
  }

  /** The kept calls, oldest first, of one service or of all (ordered by arrival). */
  calls(service?: ServiceName): CallRecord[] {
    if (service) return (this.byService.get(service) ?? []).slice(-this.limit);
    return [...this.byService.values()]
      .flatMap((list) => list.slice(-this.limit))
      .sort((a, b) => a.at - b.at);
  }

  /** How many calls a service (or all) received since the last clear, including dropped ones. */
  total(service?: ServiceName): number {
    if (service) return this.totals.get(service) ?? 0;
    let sum = 0;
    for (const n of this.totals.values()) sum += n;
    return sum;
  }

  /** Forgets every call. */
  clear(): void {
    this.byService.clear();
    this.totals.clear();
  }
}
