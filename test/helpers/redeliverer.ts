import { newSvixId, signDelivery } from '@clerk-sync/sandbox';

/** What the redeliverer saw, for the fault report. */
export interface DeliveryStats {
  /** Events handed to it. */
  events: number;
  /** HTTP requests made (first attempts and retries). */
  attempts: number;
  retries: number;
  /** Answers 503 (Temporal unavailable: the product asked to be retried). */
  answered503: number;
  /** Other non-2xx answers. */
  otherErrors: number;
  /** No answer at all (connection refused or reset, timeout). */
  noAnswer: number;
  /** Events never acknowledged before the deadline. */
  lost: number;
}

/**
 * Delivers like Svix: one svix-id per event, re-signed at every attempt, retried on anything but a 2xx on a
 * shortened schedule (Svix: 5 s, 5 min, 30 min, 2 h… here: 0.2 s, 0.5 s, 1 s, 2 s, then every 3 s).
 */
export class Redeliverer {
  readonly stats: DeliveryStats = {
    events: 0,
    attempts: 0,
    retries: 0,
    answered503: 0,
    otherErrors: 0,
    noAnswer: 0,
    lost: 0,
  };
  /** svix-ids acknowledged with 2xx. */
  readonly acked: string[] = [];
  /** svix-ids attempted at least once. */
  readonly sent: string[] = [];
  private static readonly SCHEDULE_MS = [200, 500, 1_000, 2_000, 3_000];
  private readonly endpoints: readonly string[];
  private next = 0;

  /** Several endpoints: each attempt goes to the next one, round-robin, as a load balancer in front of them. */
  constructor(
    endpoint: string | readonly string[],
    private readonly secret: string,
    private readonly giveUpAfterMs = 180_000,
  ) {
    this.endpoints = typeof endpoint === 'string' ? [endpoint] : endpoint;
  }

  /**
   * Delivers one event until it is acknowledged or the deadline passes; resolves with its svix-id. The id is Svix's
   * message id: given, when the caller named the event before it was sent.
   */
  async deliver(event: unknown, svixId = newSvixId()): Promise<string | undefined> {
    this.stats.events += 1;
    this.sent.push(svixId);
    const body = JSON.stringify(event);
    const deadline = Date.now() + this.giveUpAfterMs;
    for (let attempt = 0; ; attempt++) {
      this.stats.attempts += 1;
      if (attempt > 0) this.stats.retries += 1;
      const signed = signDelivery(this.secret, body, { svixId });
      try {
        const endpoint = this.endpoints[this.next++ % this.endpoints.length]!;
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: signed.headers,
          body,
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        if (res.status >= 200 && res.status < 300) {
          this.acked.push(svixId);
          return svixId;
        }
        if (res.status === 503) this.stats.answered503 += 1;
        else this.stats.otherErrors += 1;
      } catch {
        this.stats.noAnswer += 1;
      }
      if (Date.now() > deadline) {
        this.stats.lost += 1;
        return undefined;
      }
      const wait = Redeliverer.SCHEDULE_MS[Math.min(attempt, Redeliverer.SCHEDULE_MS.length - 1)]!;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
