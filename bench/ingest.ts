import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { newSvixId } from '@clerk-sync/sandbox';
import { UID, type Source } from './load-generator';
import { probe, runAtRate, type Outcome } from './pacing';
import { ramp, type Ramp, type RampTarget } from './ramp';
import {
  freshQueue,
  productApi,
  productLogger,
  serve,
  startTemporal,
  type Bench,
  type Temporal,
} from './stack';
import { median, pairRatios, rotate, round } from './stats';
import { createVerifyOnlyApp } from './verify-only-app';

/** Ingest's variants: the product's endpoint and its two ceilings. */
const VARIANTS = ['ingest', 'start-ceiling', 'verify-only'] as const;
type Variant = (typeof VARIANTS)[number];

/** One variant's figures over the repetitions: max sustained rate and the latency at it, each a median. */
export interface VariantSummary {
  maxRate: number;
  p50: number;
  p99: number;
  perRep: number[];
}

/** What the ingest section reports. */
export interface IngestReport {
  workers: string;
  summary: Record<Variant, VariantSummary>;
  ratios: { ingestOverStart: number[]; ingestOverVerify: number[] };
  median: { ingestOverStart: number; ingestOverVerify: number };
  ramps: Record<Variant, Ramp[]>;
}

/** A `user.created` body whose user id (and email) the sender replaces per delivery. */
export function signUpTemplate(bench: Bench): string {
  const event = bench.sandbox.services.clerk.createUser({
    firstName: 'Bench',
    lastName: 'Mark',
    emailAddress: [`bench.${UID}@example.com`],
  });
  const id = (event.data as { id: string }).id;
  return JSON.stringify(event).replaceAll(id, UID);
}

/** A ramp against an HTTP endpoint, sent from the sender process. */
export function httpTarget(bench: Bench, url: string, source: Source): RampTarget {
  const { ramp: r } = bench.settings;
  const base = { url, secret: bench.secret, source, timeoutMs: r.timeoutMs };
  return {
    probe: (durationMs) =>
      bench.generator.run({ ...base, kind: 'probe', concurrency: r.probeConcurrency, durationMs }),
    step: (rate) =>
      bench.generator.run({
        ...base,
        kind: 'rate',
        rate,
        durationMs: r.stepMs,
        duplicateRate: r.duplicateRate,
      }),
  };
}

/**
 * The start ceiling: `client.workflow.start` of the same workflow type and payload in a loop, with nothing around
 * it (no HTTP, no verification, no search attributes or summary), same rates and 5% duplicate ids.
 */
function startTarget(bench: Bench, client: Client, template: string): RampTarget {
  const { ramp: r } = bench.settings;
  const taskQueue = freshQueue('start-ceiling');
  const event = JSON.parse(template) as { type: string; data: Record<string, unknown> };
  const ids: string[] = [];
  const send = (): Promise<Outcome> => {
    let id: string;
    if (ids.length > 0 && Math.random() < r.duplicateRate) id = ids[Math.floor(Math.random() * ids.length)]!;
    else ids.push((id = newSvixId()));
    const data = { ...event.data, id: `user_bench${randomBytes(8).toString('hex')}` };
    return client.workflow
      .start('onboardUser', {
        taskQueue,
        workflowId: id,
        args: [{ svixId: id, type: event.type, timestamp: Date.now(), data }],
      })
      .then(
        () => ({ ok: true, status: 'started' }),
        (err: unknown) =>
          err instanceof WorkflowExecutionAlreadyStartedError
            ? { ok: true, status: 'duplicate' }
            : { ok: false, status: err instanceof Error ? err.name : 'error' },
      );
  };
  return {
    probe: (durationMs) => probe(r.probeConcurrency, durationMs, send),
    step: (rate) => runAtRate(rate, r.stepMs, send, r.timeoutMs),
  };
}

/** Summarises ramps: the median over repetitions of the max sustained rate, and of p50/p99 at it. */
export function summarize(ramps: Ramp[]): VariantSummary {
  const perRep = ramps.map((x) => x.maxSustained?.rate ?? 0);
  return {
    maxRate: round(median(perRep)),
    p50: round(median(ramps.map((x) => x.maxSustained?.p50 ?? NaN))),
    p99: round(median(ramps.map((x) => x.maxSustained?.p99 ?? NaN))),
    perRep,
  };
}

/** Where the next repetition of a variant starts climbing: below what the last one sustained. */
export function nextStart(previous: Ramp | undefined): number | undefined {
  const rate = previous?.maxSustained?.rate;
  return rate ? rate * 0.7 : undefined;
}

/**
 * Ingest: signed deliveries at rising constant rates against the product's endpoint, Koa doing only the svix
 * verification, and a bare start loop; a fresh dev server per repetition, a fresh task queue per round, no worker.
 */
export async function ingestSection(bench: Bench): Promise<IngestReport> {
  const template = signUpTemplate(bench);
  const source: Source = { kind: 'template', template };
  const verifyOnly = await serve(createVerifyOnlyApp(bench.secret));
  const logger = productLogger();
  const ramps: Record<Variant, Ramp[]> = { ingest: [], 'start-ceiling': [], 'verify-only': [] };
  const options = (v: Variant) => ({
    probeMs: bench.settings.ramp.probeMs,
    factor: bench.settings.ramp.factor,
    maxSteps: bench.settings.ramp.maxSteps,
    startRate: nextStart(ramps[v].at(-1)),
  });

  const runVariant = async (v: Variant, temporal: Temporal): Promise<Ramp> => {
    if (v === 'verify-only') return ramp(httpTarget(bench, verifyOnly.url, source), options(v));
    if (v === 'start-ceiling') return ramp(startTarget(bench, temporal.client, template), options(v));
    const api = await serve(productApi(temporal.client, freshQueue('ingest'), bench.secret, logger));
    try {
      return await ramp(httpTarget(bench, api.url, source), options(v));
    } finally {
      await api.close();
    }
  };

  try {
    for (let rep = 0; rep < bench.settings.pairs; rep++) {
      const temporal = await startTemporal();
      try {
        for (const v of rotate(VARIANTS, rep)) {
          const result = await runVariant(v, temporal);
          ramps[v].push(result);
          const m = result.maxSustained;
          bench.note(
            `ingest rep ${rep + 1} ${v}: ${m ? `${m.rate}/s p50 ${m.p50} p99 ${m.p99} ms` : 'nothing sustained'}` +
              ` (then ${result.steps.at(-1)?.why ?? 'step limit'})`,
          );
        }
      } finally {
        await temporal.close();
      }
    }
  } finally {
    await verifyOnly.close();
  }

  const rate = (v: Variant) => ramps[v].map((x) => x.maxSustained?.rate ?? 0);
  const ratios = {
    ingestOverStart: pairRatios(rate('ingest'), rate('start-ceiling')).map(round),
    ingestOverVerify: pairRatios(rate('ingest'), rate('verify-only')).map(round),
  };
  return {
    workers: 'none: workflows start on a task queue without a worker (fresh queue per round)',
    summary: {
      ingest: summarize(ramps.ingest),
      'start-ceiling': summarize(ramps['start-ceiling']),
      'verify-only': summarize(ramps['verify-only']),
    },
    ratios,
    median: {
      ingestOverStart: round(median(ratios.ingestOverStart)),
      ingestOverVerify: round(median(ratios.ingestOverVerify)),
    },
    ramps,
  };
}
