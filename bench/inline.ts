import { createClients } from '../src/clients';
import { loadConfig } from '../src/config';
import { prepareSandbox } from './e2e';
import { inlineFaultRuns, type InlineFaultRun } from './inline-faults';
import { createInlineApp } from './inline-handler';
import { eventMix, scriptedEvents } from './inline-workload';
import { httpTarget, nextStart, summarize, type VariantSummary } from './ingest';
import { REALISTIC } from './latency';
import { ramp, type Ramp } from './ramp';
import { productLogger, serve, startProduct, startTemporal, workerEnv, type Bench } from './stack';
import { median, pairRatios, rotate, round } from './stats';

const VARIANTS = ['product', 'inline'] as const;
type Variant = (typeof VARIANTS)[number];

/** What the inline comparison reports. */
export interface InlineReport {
  profile: typeof REALISTIC;
  note: string;
  /** The events each variant was sent, cycled in Clerk's order: the fault suite's scripted users. */
  mix: Record<string, number>;
  summary: Record<Variant, VariantSummary>;
  ratios: { inlineOverProduct: number[]; p99InlineOverProduct: number[] };
  median: { inlineOverProduct: number; p99InlineOverProduct: number };
  ramps: Record<Variant, Ramp[]>;
  /** The inline handler under the fault runs that apply to it (the product's: `npm run test:faults`). */
  faults: Record<string, InlineFaultRun>;
}

/**
 * Against what a careful developer would write instead: the inline handler (verify, then Salesforce, Clerk, Resend
 * and Slack before answering) and the product's endpoint, with its workers running, under the same latency profile
 * and the same events (the fault suite's scripted users: sign-ups, organizations, joins, role changes and leaves),
 * at rising constant rates.
 */
export async function inlineSection(bench: Bench): Promise<InlineReport> {
  prepareSandbox(bench, REALISTIC);
  // The same scripts for both, each variant with users of its own, as two deployments would be: neither finds the
  // other's records, nor its Resend idempotency keys (both key the welcome email on the user's id).
  const users = Math.ceil(bench.settings.inline.poolSize / 4);
  const pools: Record<Variant, ReturnType<typeof scriptedEvents>> = {
    product: scriptedEvents(bench.sandbox, users),
    inline: scriptedEvents(bench.sandbox, users),
  };
  const send = (v: Variant) =>
    bench.generator.run({ kind: 'pool', bodies: pools[v].map((e) => JSON.stringify(e)) });
  const env = workerEnv(bench, 'unused:7233', 'unused');
  const { salesforce, clerk, resend, slack } = createClients(loadConfig(env), productLogger());
  if (!salesforce || !clerk || !resend || !slack)
    throw new Error('the inline handler needs all four clients');
  const inline = await serve(
    createInlineApp({
      secret: bench.secret,
      from: env.WELCOME_EMAIL_FROM!,
      clients: { salesforce, clerk, resend, slack },
    }),
  );
  const ramps: Record<Variant, Ramp[]> = { product: [], inline: [] };
  const options = (v: Variant) => ({
    probeMs: bench.settings.ramp.probeMs,
    factor: bench.settings.ramp.factor,
    maxSteps: bench.settings.ramp.maxSteps,
    startRate: nextStart(ramps[v].at(-1)),
  });
  try {
    for (let rep = 0; rep < bench.settings.pairs; rep++) {
      const t = await startTemporal();
      try {
        for (const v of rotate(VARIANTS, rep)) {
          let result: Ramp;
          await send(v);
          if (v === 'inline') {
            result = await ramp(httpTarget(bench, inline.url, { kind: 'pool' }), options(v));
          } else {
            const api = await startProduct(bench, t, 'inline-vs');
            try {
              result = await ramp(httpTarget(bench, api.url, { kind: 'pool' }), options(v));
            } finally {
              await api.close();
            }
          }
          ramps[v].push(result);
          const m = result.maxSustained;
          bench.note(
            `inline rep ${rep + 1} ${v}: ${m ? `${m.rate}/s p50 ${m.p50} p99 ${m.p99} ms` : 'nothing sustained'}` +
              ` (then ${result.steps.at(-1)?.why ?? 'step limit'})`,
          );
        }
      } finally {
        await t.close();
      }
    }
  } finally {
    await inline.close();
  }
  const rate = (v: Variant) => ramps[v].map((x) => x.maxSustained?.rate ?? 0);
  const p99 = (v: Variant) => ramps[v].map((x) => x.maxSustained?.p99 ?? NaN);
  const ratios = {
    inlineOverProduct: pairRatios(rate('inline'), rate('product')).map(round),
    p99InlineOverProduct: pairRatios(p99('inline'), p99('product')).map(round),
  };
  return {
    profile: REALISTIC,
    note: 'product endpoint measured with its workers running on the same machine; inline answers after every call',
    mix: eventMix(pools.inline),
    summary: { product: summarize(ramps.product), inline: summarize(ramps.inline) },
    ratios,
    median: {
      inlineOverProduct: round(median(ratios.inlineOverProduct)),
      p99InlineOverProduct: round(median(ratios.p99InlineOverProduct)),
    },
    ramps,
    faults: await inlineFaultRuns(bench),
  };
}
