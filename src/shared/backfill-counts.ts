// Shared by the backfill's activities and its workflow (which sums the pages' counts): workflow-safe.

/** What a page did (or, in a dry run, would do) to one kind of record. */
export interface BackfillCounts {
  seen: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Clerk still has it, but Salesforce holds it as Deleted (or one end of the membership is): left alone. */
  skippedDeleted: number;
  /** Rejected by Salesforce for good (validation, required field…) or unreadable in Clerk; see `failures`. */
  failed: number;
}

/** Counts of nothing yet. */
export const emptyCounts = (): BackfillCounts => ({
  seen: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  skippedDeleted: 0,
  failed: 0,
});
