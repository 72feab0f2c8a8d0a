import type { FaultRule } from '@clerk-sync/sandbox';

/** Median latency per service in milliseconds; none means zero latency. */
export interface LatencyProfile {
  salesforce: number;
  clerk: number;
  resend: number;
}

/** The "realistic" profile of issue 7: Salesforce median 150 ms, Clerk 50 ms, Resend 100 ms (Slack 0). */
export const REALISTIC: LatencyProfile = { salesforce: 150, clerk: 50, resend: 100 };

/**
 * A skewed distribution around the median: 40% at 2/3 of it, 20% at it, 30% at 1.5×, 10% at 3×. The sandbox's
 * latency faults are fixed delays, so the shape is a chain of rules, each hit with its conditional probability.
 */
const SHAPE = [
  { share: 0.4, factor: 2 / 3 },
  { share: 0.2, factor: 1 },
  { share: 0.3, factor: 1.5 },
  { share: 0.1, factor: 3 },
] as const;

/** Only the API calls: Salesforce's OAuth token call happens once per worker. */
const PATHS: Record<keyof LatencyProfile, string> = {
  salesforce: '^/services/data/',
  clerk: '^/v1/',
  resend: '^/emails',
};

/** The sandbox fault rules that give each service its latency distribution. */
export function latencyRules(profile: LatencyProfile): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const service of Object.keys(PATHS) as (keyof LatencyProfile)[]) {
    let left = 1;
    for (const [i, { share, factor }] of SHAPE.entries()) {
      const last = i === SHAPE.length - 1;
      rules.push({
        id: `bench-latency-${service}-${i}`,
        service,
        path: PATHS[service],
        latencyMs: Math.round(profile[service] * factor),
        ...(last ? {} : { probability: share / left }),
      });
      left -= share;
    }
  }
  return rules;
}

/** One draw from the same distribution, for the ceiling's no-op activities. */
export function sampleLatency(medianMs: number): number {
  let u = Math.random();
  for (const { share, factor } of SHAPE) {
    if (u < share) return Math.round(medianMs * factor);
    u -= share;
  }
  return Math.round(medianMs * SHAPE[SHAPE.length - 1]!.factor);
}
