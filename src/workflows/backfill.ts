import {
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  BackfillCounts,
  BackfillCursor,
  BackfillFailure,
  BackfillKind,
  BackfillPageResult,
} from '../activities/backfill';
import { emptyCounts } from '../shared/backfill-counts';
import { backfill } from './proxies';

export type { BackfillCounts, BackfillFailure, BackfillKind } from '../activities/backfill';

/** Where a backfill is: one of the three kinds in import order, then done. */
export type BackfillPhase = BackfillKind | 'done';

/** How a backfill runs; the CLI's `--dry-run`, `--page-size` and `--pages-per-run`. */
export interface BackfillOptions {
  /** Count what would change; write nothing. */
  dryRun?: boolean;
  /** Records per page, 1–200 (default 200: one sObject Collection). */
  pageSize?: number;
  /** Pages per run before continuing as new (default 50), which keeps 100k users' history bounded. */
  pagesPerRun?: number;
}

/** What one run hands to the next through continue-as-new. */
export interface BackfillState {
  /** The next page; null once every phase is complete. */
  cursor: BackfillCursor | null;
  totals: Record<BackfillKind, BackfillCounts>;
  accountIdsSet: number;
  pages: number;
  runs: number;
  startedAt: string;
  /** Clerk's own counts, as the last page of each list reported them (for the progress bar). */
  clerkTotals: { organizations: number | null; users: number | null };
  failures: BackfillFailure[];
  /** Failures beyond the ones kept in `failures`. */
  moreFailures: number;
}

/** The workflow's input: options, and the state a previous run continued as new with. */
export interface BackfillInput extends BackfillOptions {
  state?: BackfillState;
}

/** What `backfillProgress` answers while the backfill runs. */
export interface BackfillProgress {
  phase: BackfillPhase;
  /** Clerk records looked at so far, all kinds together. */
  processed: number;
  totals: Record<BackfillKind, BackfillCounts>;
  /** Contacts whose empty AccountId was set (to their oldest membership's Account). */
  accountIdsSet: number;
  done: boolean;
  dryRun: boolean;
  /** How far the current phase is: users or organizations (for memberships: organizations walked) of Clerk's total. */
  position: { done: number; total: number | null; of: 'organizations' | 'users' };
  pages: number;
  /** Runs so far (continue-as-new every `pagesPerRun` pages). */
  runs: number;
  startedAt: string;
}

/** The workflow's result: the final progress and what it fixed — the drift report of a scheduled reconciliation. */
export interface BackfillReport extends BackfillProgress {
  /** Records created or updated and AccountIds set (in a dry run: that would be), all kinds together. */
  changed: number;
  failures: BackfillFailure[];
  moreFailures: number;
}

/** The progress of a running backfill (the CLI polls it for its progress bar). */
export const backfillProgress = defineQuery<BackfillProgress>('backfillProgress');

const PHASES: readonly BackfillKind[] = ['organizations', 'users', 'memberships'];
const KEPT_FAILURES = 20;

function firstPage(phase: BackfillKind): BackfillCursor {
  return { phase, offset: 0, organizationIndex: 0 };
}

function options(input: BackfillInput): Required<BackfillOptions> {
  const pageSize = input.pageSize ?? 200;
  const pagesPerRun = input.pagesPerRun ?? 50;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 200) {
    throw ApplicationFailure.create({
      type: 'InvalidBackfillOptions',
      message: `pageSize must be an integer from 1 to 200, not ${pageSize}`,
      nonRetryable: true,
    });
  }
  if (!Number.isInteger(pagesPerRun) || pagesPerRun < 1) {
    throw ApplicationFailure.create({
      type: 'InvalidBackfillOptions',
      message: `pagesPerRun must be a positive integer, not ${pagesPerRun}`,
      nonRetryable: true,
    });
  }
  return { dryRun: input.dryRun ?? false, pageSize, pagesPerRun };
}

function progressOf(state: BackfillState, dryRun: boolean): BackfillProgress {
  const { cursor } = state;
  const phase: BackfillPhase = cursor?.phase ?? 'done';
  const of: 'organizations' | 'users' = phase === 'users' ? 'users' : 'organizations';
  const position =
    cursor === null
      ? { done: state.clerkTotals.organizations ?? 0, total: state.clerkTotals.organizations, of }
      : {
          done: cursor.phase === 'memberships' ? cursor.organizationIndex : cursor.offset,
          total: state.clerkTotals[of],
          of,
        };
  return {
    phase,
    processed: PHASES.reduce((n, kind) => n + state.totals[kind].seen, 0),
    totals: state.totals,
    accountIdsSet: state.accountIdsSet,
    done: cursor === null,
    dryRun,
    position,
    pages: state.pages,
    runs: state.runs,
    startedAt: state.startedAt,
  };
}

function add(state: BackfillState, page: BackfillPageResult, phase: BackfillKind): void {
  for (const kind of PHASES) {
    const counts = page.counts[kind];
    if (!counts) continue;
    for (const key of Object.keys(counts) as (keyof BackfillCounts)[]) state.totals[kind][key] += counts[key];
  }
  state.accountIdsSet += page.accountIdsSet;
  state.pages += 1;
  if (page.total !== null) state.clerkTotals[phase === 'users' ? 'users' : 'organizations'] = page.total;
  const room = Math.max(KEPT_FAILURES - state.failures.length, 0);
  state.failures.push(...page.failures.slice(0, room));
  state.moreFailures += Math.max(page.failures.length - room, 0);
}

/**
 * `clerk-sync backfill` and the `clerk-sync-reconcile` Schedule: imports every Clerk organization, user and
 * membership into Salesforce, page by page, writing only what is missing or older (a deletion stays final).
 * Continues as new every `pagesPerRun` pages, so the history stays bounded whatever the number of users.
 */
export async function backfillFromClerk(input: BackfillInput = {}): Promise<BackfillReport> {
  const { dryRun, pageSize, pagesPerRun } = options(input);
  const state: BackfillState = input.state ?? {
    cursor: firstPage('organizations'),
    totals: { organizations: emptyCounts(), users: emptyCounts(), memberships: emptyCounts() },
    accountIdsSet: 0,
    pages: 0,
    runs: 1,
    startedAt: new Date().toISOString(),
    clerkTotals: { organizations: null, users: null },
    failures: [],
    moreFailures: 0,
  };
  setHandler(backfillProgress, () => progressOf(state, dryRun));

  const pageOf = {
    organizations: backfill.backfillOrganizationsPage,
    users: backfill.backfillUsersPage,
    memberships: backfill.backfillMembershipsPage,
  };
  for (let pages = 0; state.cursor; pages += 1) {
    if (pages >= pagesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof backfillFromClerk>({
        dryRun,
        pageSize,
        pagesPerRun,
        state: { ...state, runs: state.runs + 1 },
      });
    }
    const { phase } = state.cursor;
    const page = await pageOf[phase]({ cursor: state.cursor, pageSize, dryRun });
    add(state, page, phase);
    if (page.next) state.cursor = page.next;
    else {
      const following = PHASES[PHASES.indexOf(phase) + 1];
      state.cursor = following ? firstPage(following) : null;
      log.info('backfill phase complete', { phase, ...state.totals[phase] });
    }
  }
  const progress = progressOf(state, dryRun);
  const changed = PHASES.reduce((n, kind) => n + state.totals[kind].created + state.totals[kind].updated, 0);
  const report: BackfillReport = {
    ...progress,
    changed: changed + state.accountIdsSet,
    failures: state.failures,
    moreFailures: state.moreFailures,
  };
  const refused = state.failures.length + state.moreFailures;
  if (refused > 0 && !dryRun) {
    // Everything else is written; these are not: the run fails (not COMPLETED), naming them, with the report.
    const named = state.failures.slice(0, 5).map((f) => `${f.kind} ${f.id} (${f.code})`);
    throw ApplicationFailure.create({
      type: 'BackfillIncomplete',
      message:
        `${refused} record(s) not written: ${named.join(', ')}${refused > named.length ? ', …' : ''}; ` +
        'fix the cause, then run the backfill again',
      nonRetryable: true,
      details: [report],
    });
  }
  return report;
}
