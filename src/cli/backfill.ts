import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import ms, { type StringValue } from 'ms';
import { readEnv, loadConfig } from '../config';
import { withLocalKeys } from '../local/state';
import { createStarter } from '../starter';
import { connectTemporal } from '../temporal';
import type { BackfillInput, BackfillKind, BackfillProgress, BackfillReport } from '../workflows/backfill';
import { UsageError } from './usage-error';

/** The Schedule `--schedule` creates: the periodic reconciliation. */
export const RECONCILE_SCHEDULE_ID = 'clerk-sync-reconcile';
const WORKFLOW_TYPE = 'backfillFromClerk';
/** `backfillProgress` (src/workflows/backfill.ts), by name: the CLI never loads workflow code. */
const PROGRESS_QUERY = 'backfillProgress';
const KINDS: readonly BackfillKind[] = ['organizations', 'users', 'memberships'];
/** Shorter than this, an interval is a typo (`--schedule 6` is 6 ms). */
const MIN_INTERVAL_MS = 60_000;

/** What `clerk-sync backfill` is asked to do. */
export interface BackfillCommandOptions {
  dryRun?: boolean;
  pageSize?: number;
  pagesPerRun?: number;
  /** Create or update the reconciliation Schedule with this interval (`6h`, `30m`, `1d`) instead of running now. */
  schedule?: string;
  /** Delete the reconciliation Schedule. */
  unschedule?: boolean;
}

/** Where the command writes: stdout, or a test's collector. A TTY gets a redrawn progress bar. */
export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** What the command runs against. */
export interface BackfillDeps {
  client: Client;
  taskQueue: string;
  out: Output;
  /** How often the progress is polled (default 500 ms). */
  pollMs?: number;
}

/** What the command did; `exitCode` is non-zero when the backfill failed. */
export interface BackfillOutcome {
  exitCode: number;
  workflowId?: string;
  /** True when a backfill was already running and the command followed it instead of starting another. */
  attached?: boolean;
  report?: BackfillReport;
  schedule?: 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';
}

/** A bad combination of options: one line for the user, no stack trace. */
export class BackfillUsageError extends UsageError {
  override readonly name = 'BackfillUsageError';
}

/** A dry run's workflow id says so: a real backfill never attaches to one. */
const isDryRunId = (workflowId: string) => workflowId.includes('dry-run');

function workflowInput(opts: BackfillCommandOptions): BackfillInput {
  const { pageSize, pagesPerRun } = opts;
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 200))
    throw new BackfillUsageError('--page-size must be an integer from 1 to 200');
  if (pagesPerRun !== undefined && (!Number.isInteger(pagesPerRun) || pagesPerRun < 1))
    throw new BackfillUsageError('--pages-per-run must be a positive integer');
  return {
    ...(opts.dryRun && { dryRun: true }),
    ...(pageSize !== undefined && { pageSize }),
    ...(pagesPerRun !== undefined && { pagesPerRun }),
  };
}

/** `6h`, `30m`, `1d`… as the SDK reads durations (`ms`); a usage error for anything else or under a minute. */
function intervalMs(value: string): number {
  let every: number;
  try {
    every = ms(value as StringValue);
  } catch {
    every = NaN; // over 100 characters
  }
  if (!Number.isFinite(every) || every < MIN_INTERVAL_MS)
    throw new BackfillUsageError(
      `--schedule takes an interval of a minute or more, like 6h, 30m or 1d (not ${value})`,
    );
  return every;
}

/**
 * `clerk-sync backfill`: starts `backfillFromClerk` (or follows the one already running on this task queue), shows
 * its progress until it ends, and prints a summary. `--schedule` / `--unschedule` manage the reconciliation Schedule.
 */
export async function backfill(opts: BackfillCommandOptions, deps: BackfillDeps): Promise<BackfillOutcome> {
  const { input, every } = checked(opts);
  if (opts.unschedule) return unschedule(deps);
  if (every !== undefined) return schedule(every, input, deps);
  return run(input, deps);
}

/** The options as the workflow and the Schedule take them; a usage error before anything connects. */
function checked(opts: BackfillCommandOptions): { input: BackfillInput; every?: number } {
  if (opts.schedule !== undefined && opts.unschedule)
    throw new BackfillUsageError('--schedule and --unschedule exclude each other');
  const input = workflowInput(opts);
  return opts.schedule === undefined ? { input } : { input, every: intervalMs(opts.schedule) };
}

async function run(input: BackfillInput, deps: BackfillDeps): Promise<BackfillOutcome> {
  const { client, taskQueue, out } = deps;
  const begun = Date.now();
  let workflowId = input.dryRun ? undefined : await runningBackfill(client, taskQueue);
  const attached = workflowId !== undefined;
  if (workflowId) {
    out.write(`A backfill is already running: following ${workflowId}\n`);
  } else {
    const stamp = new Date().toISOString();
    workflowId = input.dryRun ? `backfill/${stamp}/dry-run` : `backfill/${stamp}`;
    await createStarter({ client, taskQueue }).start({
      workflowType: WORKFLOW_TYPE,
      workflowId,
      args: [input],
      summary: input.dryRun
        ? 'backfill from Clerk (dry run: counts what would change)'
        : 'backfill from Clerk: every organization, user and membership',
      searchAttributes: [],
    });
    out.write(`Started ${workflowId}${input.dryRun ? ' (dry run: nothing is written)' : ''}\n`);
  }
  out.write('Ctrl-C stops watching; the backfill carries on in Temporal.\n');
  const handle = client.workflow.getHandle(workflowId);
  try {
    const report = await follow(client, handle, out, deps.pollMs ?? 500);
    out.write(summary(workflowId, report, Date.now() - begun));
    return { exitCode: 0, workflowId, attached, report };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? (err.cause ?? err) : err;
    out.write(`${workflowId} failed: ${cause instanceof Error ? cause.message : String(cause)}\n`);
    // Finished every page, but Salesforce refused some records: the report says which.
    const [report] =
      cause instanceof ApplicationFailure && cause.type === 'BackfillIncomplete' ? (cause.details ?? []) : [];
    if (report) out.write(summary(workflowId, report as BackfillReport, Date.now() - begun));
    return { exitCode: 1, workflowId, attached, ...(report ? { report: report as BackfillReport } : {}) };
  }
}

/** A real (not dry-run) backfill running on this task queue, manual or scheduled; a second one would only repeat it. */
async function runningBackfill(client: Client, taskQueue: string): Promise<string | undefined> {
  const query =
    `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' ` +
    `AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  for await (const execution of client.workflow.list({ query })) {
    if (isDryRunId(execution.workflowId)) continue;
    // Visibility lags behind: a backfill that has just ended can still be listed as Running for a moment.
    const current = await client.workflow.getHandle(execution.workflowId).describe();
    if (current.status.name === 'RUNNING') return execution.workflowId;
  }
  return undefined;
}

/** Polls the progress query until the workflow (through all its continue-as-new runs) ends. */
async function follow(
  client: Client,
  handle: WorkflowHandle,
  out: Output,
  pollMs: number,
): Promise<BackfillReport> {
  let ended = false;
  const result = (handle.result() as Promise<BackfillReport>).finally(() => {
    ended = true;
  });
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  const view = new ProgressView(out);
  let asking: Promise<BackfillProgress | undefined> = Promise.resolve(undefined);
  while (!ended) {
    asking = client
      .withDeadline(Date.now() + 5_000, () => handle.query<BackfillProgress>(PROGRESS_QUERY))
      .catch(() => undefined); // not picked up by a worker yet, or between two runs: ask again
    const progress = await Promise.race([asking, settled]);
    if (progress && !ended) view.show(progress);
    await Promise.race([new Promise((resolve) => setTimeout(resolve, pollMs)), settled]);
  }
  // The caller closes the connection next: a query still in flight would be cut off, and the SDK's retry of the
  // cut-off call then throws from a timer ("Channel has been shut down"). Let it finish (5 s at most).
  await asking;
  view.end(await result.catch(() => undefined));
  return result;
}

const BAR_WIDTH = 24;

function bar(done: number, total: number | null): string {
  const fraction = total ? Math.min(done / total, 1) : 0;
  const full = Math.round(fraction * BAR_WIDTH);
  const percent = total ? `${String(Math.floor(fraction * 100)).padStart(3)}%` : '   …';
  return `[${'#'.repeat(full)}${'-'.repeat(BAR_WIDTH - full)}] ${percent}`;
}

function counts(p: BackfillProgress, kind: BackfillKind): string {
  const c = p.totals[kind];
  const deleted = c.skippedDeleted ? `, ${c.skippedDeleted} kept deleted` : '';
  const failed = c.failed ? `, ${c.failed} failed` : '';
  return `${c.seen} seen: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged${deleted}${failed}`;
}

/** One line for the phase in progress: its bar, where it is in Clerk's list, and its counts. */
export function progressLine(p: BackfillProgress): string {
  if (p.phase === 'done') return 'done';
  const { done, total, of } = p.position;
  const where = total === null ? `${done} ${of}` : `${done}/${total} ${of}`;
  return `${p.phase.padEnd(13)} ${bar(done, total)} ${where} · ${counts(p, p.phase)}`;
}

/**
 * A TTY gets one bar line, redrawn in place, and a finished line per completed phase; anything else (a log file, CI)
 * gets only the finished line of each phase.
 */
class ProgressView {
  /** Index in KINDS of the first phase whose finished line is not written yet. */
  private pending = 0;
  private drawn = false;

  constructor(private readonly out: Output) {}

  show(p: BackfillProgress): void {
    this.finishBefore(p.phase === 'done' ? KINDS.length : KINDS.indexOf(p.phase), p);
    if (this.out.isTTY && p.phase !== 'done') {
      this.out.write(`\r\x1b[2K${progressLine(p)}`);
      this.drawn = true;
    }
  }

  /** Phases the polls never saw end (a small backfill can finish between two polls) still get their line. */
  end(report: BackfillReport | undefined): void {
    if (report) this.finishBefore(KINDS.length, report);
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  private finishBefore(index: number, p: BackfillProgress): void {
    for (; this.pending < index; this.pending += 1) {
      const phase = KINDS[this.pending]!;
      const line = `${phase.padEnd(13)} ${p.dryRun ? 'counted' : 'done   '} · ${counts(p, phase)}`;
      this.out.write(`${this.drawn ? '\r\x1b[2K' : ''}${line}\n`);
      this.drawn = false;
    }
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The final report: a table per kind, what changed, and the records Salesforce refused. */
export function summary(workflowId: string, r: BackfillReport, elapsedMs: number): string {
  const head = ['', 'seen', 'created', 'updated', 'unchanged', 'deleted', 'failed'];
  const rows = KINDS.map((kind) => {
    const c = r.totals[kind];
    return [kind, c.seen, c.created, c.updated, c.unchanged, c.skippedDeleted, c.failed].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const lines = [
    `${workflowId} completed in ${(elapsedMs / 1000).toFixed(1)} s (${plural(r.pages, 'page')}, ${plural(r.runs, 'run')})` +
      (r.dryRun ? ': a dry run, nothing was written; the counts are what a backfill would do' : ''),
    line(head),
    ...rows.map(line),
    `Contacts given their oldest membership's Account: ${r.accountIdsSet}`,
    r.changed === 0
      ? `Salesforce was already in step with Clerk: nothing ${r.dryRun ? 'would change' : 'changed'}.`
      : `${plural(r.changed, 'change')} ${r.dryRun ? 'would be made' : 'made'}.`,
    ...(r.failures.length
      ? [
          'Refused (fix the cause, then run the backfill again):',
          ...r.failures.map((f) => `  ${f.kind} ${f.id}: ${f.code}`),
          ...(r.moreFailures ? [`  … and ${r.moreFailures} more`] : []),
        ]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Creates the reconciliation Schedule, or brings it to this interval and input; unchanged when it already is. */
async function schedule(every: number, input: BackfillInput, deps: BackfillDeps): Promise<BackfillOutcome> {
  const { client, taskQueue, out } = deps;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: WORKFLOW_TYPE,
    // Temporal appends the scheduled time to it; a dry-run id keeps `backfill` from attaching to a dry run.
    workflowId: input.dryRun ? `${RECONCILE_SCHEDULE_ID}/dry-run` : RECONCILE_SCHEDULE_ID,
    taskQueue,
    args: [input],
    staticSummary: `reconcile Salesforce with Clerk (Schedule ${RECONCILE_SCHEDULE_ID})`,
  };
  const spec = { intervals: [{ every }] };
  // A run still going when the next is due: skip the next, never two at once.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP };
  let outcome: 'created' | 'updated' | 'unchanged';
  try {
    await client.schedule.create({ scheduleId: RECONCILE_SCHEDULE_ID, spec, action, policies });
    outcome = 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
    const current = await handle.describe();
    const same =
      current.spec.intervals?.length === 1 &&
      current.spec.intervals[0]!.every === every &&
      (current.spec.calendars?.length ?? 0) === 0 &&
      current.action.type === 'startWorkflow' &&
      current.action.workflowType === WORKFLOW_TYPE &&
      current.action.workflowId === action.workflowId &&
      current.action.taskQueue === taskQueue &&
      JSON.stringify(current.action.args) === JSON.stringify(action.args) &&
      current.policies.overlap === policies.overlap;
    if (same) outcome = 'unchanged';
    else {
      await handle.update((previous) => ({
        ...previous,
        spec,
        action,
        policies: { ...previous.policies, ...policies },
      }));
      outcome = 'updated';
    }
  }
  out.write(
    `Schedule ${RECONCILE_SCHEDULE_ID} ${outcome}: a ${input.dryRun ? 'dry-run ' : ''}backfill every ${formatInterval(every)} ` +
      `(overlap: skip); each run's result reports what it fixed. Remove it with --unschedule.\n`,
  );
  return { exitCode: 0, schedule: outcome };
}

async function unschedule({ client, out }: BackfillDeps): Promise<BackfillOutcome> {
  try {
    await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    out.write(`Schedule ${RECONCILE_SCHEDULE_ID} does not exist: nothing to remove.\n`);
    return { exitCode: 0, schedule: 'absent' };
  }
  out.write(`Schedule ${RECONCILE_SCHEDULE_ID} deleted; a run in progress finishes on its own.\n`);
  return { exitCode: 0, schedule: 'deleted' };
}

function formatInterval(every: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (every % size === 0) return `${every / size}${unit}`;
  }
  return `${every / 1000}s`;
}

/** `clerk-sync backfill` from the command line: the configured Temporal, stdout; returns the exit code. */
export async function runBackfillCommand(opts: BackfillCommandOptions): Promise<number> {
  checked(opts);
  const config = loadConfig(withLocalKeys(readEnv()));
  const { client, connection } = await connectTemporal(config);
  try {
    const outcome = await backfill(opts, {
      client,
      taskQueue: config.temporal.taskQueue,
      out: process.stdout,
    });
    return outcome.exitCode;
  } finally {
    await connection.close();
  }
}
