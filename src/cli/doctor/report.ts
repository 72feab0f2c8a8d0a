// What `clerk-sync doctor` found, and how it prints it: one line per check, or JSON for machines.

/** A check's outcome: `fail` makes the command exit 1; `warn` is printed but passes; `skip` was not run. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the report. */
export interface CheckResult {
  /** Stable key for machines: `temporal.pollers`, `salesforce.token`, … */
  readonly id: string;
  /** What was checked, e.g. `Salesforce token`. */
  readonly name: string;
  readonly status: CheckStatus;
  /** What it found: the reason when it failed. */
  readonly detail: string;
  /** What to do about it, when something is to be done. */
  readonly fix?: string;
  readonly ms: number;
}

/** The whole run; `ok` decides the exit code. */
export interface DoctorReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
  readonly counts: Readonly<Record<CheckStatus, number>>;
  readonly ms: number;
}

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/** Builds the report from the results in the order they were listed. */
export function reportOf(checks: readonly CheckResult[], ms: number): DoctorReport {
  const counts = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status] += 1;
  return { ok: counts.fail === 0, checks, counts, ms };
}

/** One line per check: `✓ Temporal namespace  default (12 ms)`; what to do after an arrow. */
export function formatCheck(c: CheckResult, width: number): string {
  const fix = c.fix ? ` → ${c.fix}` : '';
  return `${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}${fix}`;
}

/** The report as text: one line per check, then the summary line. */
export function formatReport(report: DoctorReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  return [...report.checks.map((c) => formatCheck(c, width)), summaryLine(report)];
}

/** `doctor: 21 ok, 1 warning, 2 failed (1.4 s)`. */
export function summaryLine(report: DoctorReport): string {
  const { ok, warn, fail, skip } = report.counts;
  const parts = [
    `${ok} ok`,
    warn > 0 && `${warn} warning${warn > 1 ? 's' : ''}`,
    fail > 0 && `${fail} failed`,
    skip > 0 && `${skip} skipped`,
  ].filter(Boolean);
  return `doctor: ${parts.join(', ')} (${(report.ms / 1000).toFixed(1)} s)`;
}
