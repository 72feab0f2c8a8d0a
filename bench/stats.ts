/** Nearest-rank percentile of unsorted numbers; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-pair ratios variant/baseline: pair i compares the runs of the same repetition. */
export function pairRatios(variant: readonly number[], baseline: readonly number[]): number[] {
  return variant.map((v, i) => v / baseline[i]!);
}

/** Rounds for display and the report: 3 significant digits. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  return Number(n.toPrecision(3));
}

/** The order of the variants in repetition `rep`: rotated so none always runs first (the machine drifts). */
export function rotate<T>(variants: readonly T[], rep: number): T[] {
  const k = rep % variants.length;
  return [...variants.slice(k), ...variants.slice(0, k)];
}

/** Latency summary of one run, in milliseconds. */
export interface Latency {
  p50: number;
  p99: number;
}

/** p50 and p99 of latencies in milliseconds. */
export function latency(ms: readonly number[]): Latency {
  return { p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)) };
}

/** The most of `times` (epoch ms) within any `windowMs`. */
export function mostWithin(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
