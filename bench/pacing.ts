import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, round } from './stats';

/** What one request ended as: `ok` for the answers the variant expects (2xx, or a duplicate start). */
export interface Outcome {
  ok: boolean;
  status: string;
}

/** One request of a constant-rate step. */
interface Sample {
  /** How late it left against the schedule (the sender's own lag), ms. */
  lagMs: number;
  /** From leaving to the answer, ms. */
  latencyMs: number;
  ok: boolean;
  status: string;
}

/** One constant-rate step, and whether the variant sustained it. */
export interface Step {
  rate: number;
  sent: number;
  answered: number;
  failed: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  /** Median latency of the first and the last third: a rising latency means a queue is building. */
  firstThirdMs: number;
  lastThirdMs: number;
  lagP99: number;
  sustained: boolean;
  why?: string;
}

/** A step shorter than this many requests says nothing about a trend. */
const MIN_REQUESTS = 20;
/** Latency may rise this much over a step (×, then + ms) before it counts as a growing queue. */
const TREND = { factor: 1.5, slackMs: 25 };
/** Above this, the variant is too slow to count as keeping up whatever the trend (Svix waits 15 s). */
const P99_LIMIT_MS = 2_000;
/** Above this the sender itself fell behind: the step measured the sender, not the variant. */
const LAG_LIMIT_MS = 100;

/**
 * Open loop: request i leaves at i/rate whatever happened to the earlier ones (no coordinated omission), for
 * `durationMs` or at least MIN_REQUESTS requests; then waits up to `timeoutMs` for the last answers.
 */
export async function runAtRate(
  rate: number,
  durationMs: number,
  send: (i: number) => Promise<Outcome>,
  timeoutMs: number,
): Promise<Step> {
  const total = Math.max(MIN_REQUESTS, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const samples: (Sample | undefined)[] = new Array<Sample | undefined>(total);
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const now = performance.now() - t0;
    while (i < total && i * interval <= now) {
      const k = i++;
      const left = performance.now();
      const lagMs = left - t0 - k * interval;
      const record = (outcome: Outcome) => {
        samples[k] = { lagMs, latencyMs: performance.now() - left, ...outcome };
      };
      pending.push(
        send(k).then(record, (err: unknown) =>
          record({ ok: false, status: err instanceof Error ? err.name || 'Error' : 'error' }),
        ),
      );
    }
    if (i < total) await sleep(Math.max(0, i * interval - (performance.now() - t0)));
  }
  const timeout = new AbortController();
  await Promise.race([
    Promise.all(pending),
    sleep(timeoutMs, undefined, { signal: timeout.signal }).catch(() => undefined),
  ]);
  timeout.abort();
  return summarize(rate, samples);
}

function summarize(rate: number, samples: readonly (Sample | undefined)[]): Step {
  const answered = samples.filter((s): s is Sample => s !== undefined);
  const ok = answered.filter((s) => s.ok);
  const statuses: Record<string, number> = {};
  for (const s of answered) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  const unanswered = samples.length - answered.length;
  if (unanswered > 0) statuses.unanswered = unanswered;
  const third = Math.max(1, Math.floor(samples.length / 3));
  const middle = (list: (Sample | undefined)[]) =>
    percentile(
      list.filter((s): s is Sample => s !== undefined).map((s) => s.latencyMs),
      50,
    );
  const step: Step = {
    rate: round(rate),
    sent: samples.length,
    answered: answered.length,
    failed: samples.length - ok.length,
    statuses,
    p50: round(
      percentile(
        ok.map((s) => s.latencyMs),
        50,
      ),
    ),
    p99: round(
      percentile(
        ok.map((s) => s.latencyMs),
        99,
      ),
    ),
    firstThirdMs: round(middle(samples.slice(0, third))),
    lastThirdMs: round(middle(samples.slice(-third))),
    lagP99: round(
      percentile(
        answered.map((s) => s.lagMs),
        99,
      ),
    ),
    sustained: false,
  };
  if (step.failed > 0) step.why = `${step.failed} of ${step.sent} not answered as expected`;
  else if (step.lagP99 > LAG_LIMIT_MS) step.why = `sender lag p99 ${step.lagP99} ms`;
  else if (step.lastThirdMs > step.firstThirdMs * TREND.factor + TREND.slackMs)
    step.why = `latency rising ${step.firstThirdMs} → ${step.lastThirdMs} ms`;
  else if (step.p99 > P99_LIMIT_MS) step.why = `p99 ${step.p99} ms`;
  else step.sustained = true;
  return step;
}

/** Closed loop at `concurrency` for `durationMs`: a quick estimate of a variant's capacity, per second. */
export async function probe(
  concurrency: number,
  durationMs: number,
  send: (i: number) => Promise<Outcome>,
): Promise<number> {
  const t0 = performance.now();
  let i = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - t0 < durationMs) {
        const outcome = await send(i++).catch(() => ({ ok: false, status: 'error' }));
        if (outcome.ok) done += 1;
      }
    }),
  );
  return (done * 1000) / (performance.now() - t0);
}

/** Every item once, `concurrency` at a time; the callback records what it needs. */
export async function runAll<T>(
  items: readonly T[],
  concurrency: number,
  each: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await each(items[i]!, i);
      }
    }),
  );
}
