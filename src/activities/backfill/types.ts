// What a backfill page takes and gives back: shared by the page activities and the backfill workflow.

/** The three kinds of records, in the order a backfill imports them (memberships need both ends). */
export type BackfillKind = 'organizations' | 'users' | 'memberships';

import type { BackfillCounts } from '../../shared/backfill-counts';

export type { BackfillCounts } from '../../shared/backfill-counts';

/** Where a backfill is: a phase, the Clerk offset in it, and for memberships the organization being listed. */
export interface BackfillCursor {
  phase: BackfillKind;
  /** Users or organizations: the Clerk list offset. Memberships: the offset inside the current organization. */
  offset: number;
  /** Memberships: the index of the organization (Clerk's list, oldest first) whose memberships come next. */
  organizationIndex: number;
}

/** One page to import. */
export interface BackfillPageRequest {
  cursor: BackfillCursor;
  /** Records per page: at most 200, one sObject Collection. */
  pageSize: number;
  /** Count what would change; write nothing. */
  dryRun: boolean;
}

/** A record Salesforce rejected for good, by Clerk id and code (never field values: they land in history). */
export interface BackfillFailure {
  kind: BackfillKind;
  id: string;
  code: string;
}

/** What a page did, and where the next one starts (`null`: the phase is complete). */
export interface BackfillPageResult {
  counts: Partial<Record<BackfillKind, BackfillCounts>>;
  /** Contacts whose empty AccountId was set to their oldest membership's Account. */
  accountIdsSet: number;
  next: BackfillCursor | null;
  /** Clerk's total of the list this phase walks (users, or organizations), for the progress bar. */
  total: number | null;
  failures: BackfillFailure[];
}

/** The largest page: Salesforce takes 200 records per sObject Collection and keeps `IN (…)` lists well in bounds. */
export const MAX_PAGE_SIZE = 200;
