import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import {
  arrayFromPayloads,
  type Payload,
  type SearchAttributePair,
  type WorkflowSerializationContext,
} from '@temporalio/common';
import { InvalidArgumentError, type Command } from 'commander';
import { readEnv, loadConfig } from '../config';
import { withLocalKeys } from '../local/state';
import { isRoutedEventType, ROUTES, type RoutedEventType } from '../shared/events';
import {
  ClerkEventType,
  ClerkOrganizationId,
  ClerkUserId,
  SEARCH_ATTRIBUTES,
} from '../shared/search-attributes';
import { createStarter, type StartRequest, type Starter } from '../starter';
import { connectTemporal, temporalErrorMessage } from '../temporal';

/** Which failed syncs `replay --failed` looks for. */
export interface ReplayFilters {
  /** Only workflows of this task queue: the configured one. */
  readonly taskQueue: string;
  /** Only runs started at or after this time. */
  readonly since: Date;
  readonly eventType?: RoutedEventType;
  readonly userId?: string;
}

/** How `replay` runs. */
export interface ReplayOptions {
  /** The configured task queue: the one the starter starts on, and the only one replayed from. */
  readonly taskQueue: string;
  /** List what would be replayed; start nothing. */
  readonly dryRun?: boolean;
}

/** What one workflow id concerns, as each output line shows it. */
interface Subject {
  readonly workflowId: string;
  /** The Clerk event type, or the workflow type of a workflow without one (`createOrganizationForAccount`). */
  readonly what: string;
  readonly userId?: string;
  readonly organizationId?: string;
}

/** What replay does with one workflow id: re-run its latest run, skip it, or report why it cannot. */
export type ReplayPlan = Subject &
  (
    | { readonly action: 'replay'; readonly request: StartRequest }
    | { readonly action: 'skip'; readonly reason: string }
    | { readonly action: 'fail'; readonly reason: string }
  );

/** The final count; `failed` makes the command exit non-zero. */
export interface ReplayCounts {
  replayed: number;
  skipped: number;
  failed: number;
  /** Dry run: how many would have been replayed. */
  wouldReplay: number;
}

/** Every workflow a delivery or the operator API starts; the Slack notifier (`postSlackNotices`) is not a sync. */
export const SYNC_WORKFLOW_TYPES: readonly string[] = [
  ...new Set<string>(Object.values(ROUTES).map((r) => r.workflowType)),
  'createOrganizationForAccount',
];

/** What ALLOW_DUPLICATE_FAILED_ONLY lets start again, and what SPEC's replay is for. */
const REPLAYABLE: ReadonlySet<WorkflowExecutionStatusName> = new Set(['FAILED', 'TIMED_OUT', 'TERMINATED']);

const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query for failed, timed-out and terminated syncs matching `filters`. */
export function failedSyncsQuery(filters: ReplayFilters): string {
  const clauses = [
    `TaskQueue = ${quote(filters.taskQueue)}`,
    `WorkflowType IN (${SYNC_WORKFLOW_TYPES.map(quote).join(', ')})`,
    `ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated')`,
    `StartTime >= ${quote(filters.since.toISOString())}`,
  ];
  if (filters.eventType) clauses.push(`ClerkEventType = ${quote(filters.eventType)}`);
  if (filters.userId) clauses.push(`ClerkUserId = ${quote(filters.userId)}`);
  return clauses.join(' AND ');
}

/**
 * The failed syncs matching `filters`, one plan per workflow id, oldest first. Visibility lists runs; each id is then
 * decided on its latest run (describe is consistent where visibility lags): a later run that is running or has
 * succeeded means there is nothing to replay, so a second `replay --failed` in a row replays nothing.
 */
export async function* findReplayable(client: Client, filters: ReplayFilters): AsyncGenerator<ReplayPlan> {
  const latestFailed = new Map<string, { runId: string; startTime: Date }>();
  for await (const run of client.workflow.list({ query: failedSyncsQuery(filters) })) {
    const seen = latestFailed.get(run.workflowId);
    if (!seen || run.startTime > seen.startTime) latestFailed.set(run.workflowId, run);
  }
  const oldestFirst = [...latestFailed].sort(([, a], [, b]) => a.startTime.getTime() - b.startTime.getTime());
  for (const [workflowId, { runId }] of oldestFirst) {
    yield await planReplay(client, filters.taskQueue, workflowId, runId);
  }
}

async function* planEach(client: Client, taskQueue: string, ids: string[]): AsyncGenerator<ReplayPlan> {
  for (const id of new Set(ids)) yield await planReplay(client, taskQueue, id);
}

/**
 * Decides one workflow id on its latest run. A replayable run yields the start request of its original input (first
 * history event, decoded with the client's data converter, so an encryption codec applies), summary and search
 * attributes. `failedRunId` is the run visibility found failed, if any.
 */
export async function planReplay(
  client: Client,
  taskQueue: string,
  workflowId: string,
  failedRunId?: string,
): Promise<ReplayPlan> {
  let run: WorkflowExecutionDescription;
  try {
    run = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    const reason =
      err instanceof WorkflowNotFoundError ? 'not found' : `cannot describe it: ${temporalErrorMessage(err)}`;
    return { workflowId, what: '-', action: 'fail', reason };
  }
  const attributes = run.typedSearchAttributes;
  const subject: Subject = {
    workflowId,
    what: attributes.get(ClerkEventType) ?? run.type,
    userId: attributes.get(ClerkUserId),
    organizationId: attributes.get(ClerkOrganizationId),
  };
  const skip = (reason: string): ReplayPlan => ({ ...subject, action: 'skip', reason });
  if (!SYNC_WORKFLOW_TYPES.includes(run.type)) return skip(`not a sync workflow (${run.type})`);
  if (run.taskQueue !== taskQueue) return skip(`on task queue ${run.taskQueue}, not ${taskQueue}`);
  const status = run.status.name;
  if (status === 'RUNNING') return skip('running');
  if (status === 'COMPLETED')
    return skip(failedRunId && failedRunId !== run.runId ? 'succeeded since' : 'succeeded');
  if (!REPLAYABLE.has(status)) return skip(status.toLowerCase().replace(/_/g, ' '));

  try {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId: run.runId },
      maximumPageSize: 1,
    });
    const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    const workflowType = started?.workflowType?.name;
    if (!started || !workflowType)
      return { ...subject, action: 'fail', reason: 'its history has no start event' };
    const context: WorkflowSerializationContext = {
      type: 'workflow',
      namespace: client.options.namespace,
      workflowId,
    };
    const args = await decodeArgs(client, started.input?.payloads ?? [], context);
    const searchAttributes: SearchAttributePair[] = [];
    for (const key of SEARCH_ATTRIBUTES) {
      const value = attributes.get(key);
      if (value !== undefined) searchAttributes.push({ key, value });
    }
    const summary = (await run.staticSummary()) ?? `${subject.what} ${workflowId}`;
    return {
      ...subject,
      action: 'replay',
      request: { workflowType, workflowId, args, summary, searchAttributes },
    };
  } catch (err) {
    return { ...subject, action: 'fail', reason: `cannot read its input: ${temporalErrorMessage(err)}` };
  }
}

/**
 * `clerk-sync replay`: re-runs failed syncs (the given workflow ids, or those matching `filters`) with their original
 * input under the same workflow id, through the starter (so its reuse policy, search attributes and summary apply).
 * Writes one line per workflow as it goes, then the count, to `out`.
 */
export async function replay(
  client: Client,
  starter: Pick<Starter, 'start'>,
  target: string[] | Omit<ReplayFilters, 'taskQueue'>,
  opts: ReplayOptions,
  out: (line: string) => void,
): Promise<ReplayCounts> {
  const plans = Array.isArray(target)
    ? planEach(client, opts.taskQueue, target)
    : findReplayable(client, { ...target, taskQueue: opts.taskQueue });
  const counts: ReplayCounts = { replayed: 0, skipped: 0, failed: 0, wouldReplay: 0 };
  for await (const plan of plans) {
    if (plan.action === 'skip') {
      counts.skipped += 1;
      out(line(plan, `skipped: ${plan.reason}`));
    } else if (plan.action === 'fail') {
      counts.failed += 1;
      out(line(plan, `failed: ${plan.reason}`));
    } else if (opts.dryRun) {
      counts.wouldReplay += 1;
      out(line(plan, 'would replay (dry run)'));
    } else {
      try {
        const result = await starter.start(plan.request);
        if (result.status === 'started') {
          counts.replayed += 1;
          out(line(plan, `replayed: run ${result.runId}`));
        } else {
          counts.skipped += 1;
          out(line(plan, 'skipped: started again meanwhile'));
        }
      } catch (err) {
        counts.failed += 1;
        out(line(plan, `failed: ${temporalErrorMessage(err)}`));
      }
    }
  }
  out(countLine(counts, opts.dryRun === true));
  return counts;
}

function line(s: Subject, outcome: string): string {
  const who = [s.userId, s.organizationId].filter(Boolean).join(' ') || '-';
  return `${s.workflowId}  ${s.what}  ${who}  ${outcome}`;
}

function countLine(c: ReplayCounts, dryRun: boolean): string {
  const failed = c.failed > 0 ? `, failed ${c.failed}` : '';
  const dry = dryRun ? ` (dry run: would replay ${c.wouldReplay})` : '';
  return `replayed ${c.replayed}, skipped ${c.skipped}${failed}${dry}`;
}

/** A workflow's input as its code received it: through the client's codecs (the last applied first), then converted. */
async function decodeArgs(
  client: Client,
  payloads: Payload[],
  context: WorkflowSerializationContext,
): Promise<unknown[]> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = payloads;
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded, context);
  return arrayFromPayloads(payloadConverter, decoded, context);
}

/** The options of `clerk-sync replay`, as commander hands them over. */
export interface ReplayCommandOptions {
  failed?: boolean;
  since?: string;
  type?: string;
  user?: string;
  dryRun?: boolean;
}

const UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `24h`, `7d` in milliseconds; an `InvalidArgumentError` (a usage error) for anything else. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([mhd])$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2] as keyof typeof UNITS] : 0;
  if (!(ms > 0)) throw new InvalidArgumentError('Use a duration like 30m, 24h or 7d.');
  return ms;
}

function invalidOption(flags: string, value: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`option '${flags}' argument '${value}' is invalid. ${why}`);
}

/**
 * Checks the arguments of `clerk-sync replay` before anything connects: workflow ids, or `--failed` with its
 * filters (24 h back by default). Throws commander's `InvalidArgumentError` for a usage error.
 */
export function parseReplayArgs(
  ids: string[],
  opts: ReplayCommandOptions,
  now = Date.now(),
): string[] | Omit<ReplayFilters, 'taskQueue'> {
  let sinceMs: number = UNITS.d;
  if (opts.since !== undefined) {
    try {
      sinceMs = parseDuration(opts.since);
    } catch (err) {
      throw invalidOption('--since <duration>', opts.since, (err as Error).message);
    }
  }
  const { type, user } = opts;
  if (type !== undefined && !isRoutedEventType(type)) {
    throw invalidOption('--type <event-type>', type, `Use one of: ${Object.keys(ROUTES).join(', ')}.`);
  }
  if (user !== undefined && !/^user_[A-Za-z0-9]+$/.test(user)) {
    throw invalidOption('--user <user-id>', user, 'Use a Clerk user id (user_…).');
  }
  if (opts.failed && ids.length > 0)
    throw new InvalidArgumentError('give workflow ids or --failed, not both');
  if (!opts.failed) {
    if (ids.length === 0) throw new InvalidArgumentError('give the workflow ids to replay, or --failed');
    const filters = (['since', 'type', 'user'] as const).filter((f) => opts[f] !== undefined);
    if (filters.length > 0) {
      const flags = filters.map((f) => `--${f}`).join(', ');
      throw new InvalidArgumentError(`${flags} ${filters.length > 1 ? 'apply' : 'applies'} to --failed only`);
    }
    return ids;
  }
  return {
    since: new Date(now - sinceMs),
    ...(type !== undefined && { eventType: type }),
    ...(user !== undefined && { userId: user }),
  };
}

/**
 * Runs `clerk-sync replay` for bin.ts: a bad argument is commander's usage error, then the configuration is read,
 * the client connects and the lines go to stdout. Returns the exit code: 1 when a replay could not start.
 */
export async function runReplayCommand(
  ids: string[],
  opts: ReplayCommandOptions,
  command: Command,
): Promise<number> {
  let target: ReturnType<typeof parseReplayArgs>;
  try {
    target = parseReplayArgs(ids, opts);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    command.error(`error: ${err.message}`, { exitCode: err.exitCode, code: err.code });
  }
  const config = loadConfig(withLocalKeys(readEnv()));
  const { client, connection } = await connectTemporal(config);
  try {
    const { taskQueue } = config.temporal;
    const counts = await replay(
      client,
      createStarter({ client, taskQueue }),
      target,
      { taskQueue, dryRun: opts.dryRun === true },
      (text) => process.stdout.write(`${text}\n`),
    );
    return counts.failed > 0 ? 1 : 0;
  } finally {
    await connection.close();
  }
}
