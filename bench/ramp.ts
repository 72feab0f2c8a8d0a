import type { Step } from './pacing';

/** A variant under a rising constant rate: a capacity probe, then one step per rate. */
export interface RampTarget {
  /** Closed-loop requests per second over `durationMs`, to place the first step (shorter: a warm-up). */
  probe(durationMs: number): Promise<number>;
  step(rate: number): Promise<Step>;
}

/** How a ramp climbs. */
export interface RampOptions {
  /** First rate; none: a fraction of the probe's estimate. */
  startRate?: number;
  probeMs: number;
  /** Each step's rate is the previous one's times this. */
  factor: number;
  maxSteps: number;
}

/** The steps, and the highest rate sustained (its p50/p99 are the variant's latency figures). */
export interface Ramp {
  probePerSecond?: number;
  steps: Step[];
  maxSustained?: Step;
}

/** Where the first step sits against the closed-loop probe (steps below it only cost time). */
const START_FRACTION = 0.6;
/** The lowest rate a ramp tries before it calls the variant broken. */
const FLOOR = 2;
/** A step's p99 may grow to this multiple of the first sustained step's (plus 50 ms) and still count. */
const P99_GROWTH = 3;

/**
 * Rising constant rates until a rate is not sustained twice; a first step that fails is retried at half the rate.
 */
export async function ramp(target: RampTarget, options: RampOptions): Promise<Ramp> {
  const result: Ramp = { steps: [] };
  // A fresh server or endpoint answers its first requests slowly (connections, caches): warm it first.
  const warm = await target.probe(options.probeMs / 3);
  let rate = options.startRate;
  if (rate === undefined) {
    result.probePerSecond = Math.max(warm, await target.probe(options.probeMs));
    rate = Math.max(FLOOR, result.probePerSecond * START_FRACTION);
  }
  let retried = false;
  while (result.steps.length < options.maxSteps) {
    const step = await target.step(rate);
    const base = result.steps.find((s) => s.sustained)?.p99;
    if (step.sustained && base !== undefined && step.p99 > P99_GROWTH * base + 50) {
      step.sustained = false;
      step.why = `p99 ${step.p99} ms, over ${P99_GROWTH}× the first step's ${base} ms`;
    }
    result.steps.push(step);
    if (step.sustained) {
      result.maxSustained = step;
      rate *= options.factor;
    } else if (!result.maxSustained && rate / 2 >= FLOOR) {
      rate /= 2;
    } else if (!retried) {
      retried = true; // one noisy step (a GC pause, a neighbour's burst) does not end the climb
    } else {
      break;
    }
  }
  return result;
}
