import { deliverWebhook, newSvixId } from '../deliver';
import type { ClerkEvent } from './types';

/** Where the sandbox's Clerk sends webhooks: the product's endpoint and its signing secret. */
export interface WebhookTarget {
  url: string;
  secret: string;
}

/** One webhook the sandbox's Clerk sent (all attempts of one Svix message). */
export interface WebhookDeliveryRecord {
  svixId: string;
  type: ClerkEvent['type'];
  attempts: number;
  /** Last HTTP status, or null when the endpoint did not answer. */
  status: number | null;
  state: 'pending' | 'delivered' | 'failed';
  error?: string;
  at: number;
}

/** Svix's schedule (5 s, 5 min, 30 min…) squeezed so a local run sees retries within seconds. */
const RETRY_DELAYS_MS = [250, 1_000, 3_000, 6_000];
const KEEP = 1_000;

/**
 * Sends Clerk's webhooks as Svix does: signed, one message id per event kept across retries, a fresh
 * timestamp per attempt, retried on any non-2xx. First attempts go out in event order; retries run on their
 * own timers, so a failing event does not hold back later ones (Svix gives no ordering either).
 */
export class WebhookSender {
  private chain: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private records: WebhookDeliveryRecord[] = [];
  private readonly abort = new AbortController();

  constructor(
    private target: WebhookTarget | undefined,
    private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {}

  /** Points deliveries somewhere else (or nowhere); events already queued keep their target. */
  setTarget(target: WebhookTarget | undefined): void {
    this.target = target;
  }

  /** The current target, if any. */
  get configured(): WebhookTarget | undefined {
    return this.target;
  }

  /** Queues the events for delivery; a no-op without a target. */
  send(events: ClerkEvent[]): void {
    const target = this.target;
    if (!target) return;
    for (const event of events) {
      const record: WebhookDeliveryRecord = {
        svixId: newSvixId(),
        type: event.type,
        attempts: 0,
        status: null,
        state: 'pending',
        at: Date.now(),
      };
      this.records.push(record);
      if (this.records.length > KEEP * 1.25) this.records.splice(0, this.records.length - KEEP);
      this.inFlight += 1;
      this.chain = this.chain.then(() => this.attempt(target, event, record));
    }
  }

  /** Resolves once every queued delivery has succeeded or used up its retries. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The newest deliveries, oldest first. */
  deliveries(): WebhookDeliveryRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** Forgets the delivery records (pending deliveries still run). */
  clearRecords(): void {
    this.records = [];
  }

  /** Stops retries and aborts requests in flight. */
  close(): void {
    this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inFlight = 0;
    this.settle();
  }

  private async attempt(
    target: WebhookTarget,
    event: ClerkEvent,
    record: WebhookDeliveryRecord,
  ): Promise<void> {
    if (this.abort.signal.aborted) return;
    record.attempts += 1;
    try {
      const res = await deliverWebhook(target.url, target.secret, event, {
        svixId: record.svixId,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(15_000)]),
      });
      record.status = res.status;
      delete record.error;
      if (res.status >= 200 && res.status < 300) return this.finish(record, 'delivered');
    } catch (err) {
      record.status = null;
      record.error = err instanceof Error ? err.message : String(err);
    }
    const delay = this.retryDelaysMs[record.attempts - 1];
    if (delay === undefined || this.abort.signal.aborted) return this.finish(record, 'failed');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(target, event, record);
    }, delay);
    this.timers.add(timer);
  }

  private finish(record: WebhookDeliveryRecord, state: 'delivered' | 'failed'): void {
    record.state = state;
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0) this.settle();
  }

  private settle(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
