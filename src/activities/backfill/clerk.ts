import type { ClerkClient } from '@clerk/backend';
import { membershipsOfUser } from '../clerk';
import { ApplicationFailure } from '@temporalio/common';
import { emptyCounts, type BackfillCounts } from '../../shared/backfill-counts';
import { checkClerk, type ClerkSchema } from '../../shared/clerk';
import { classifyClerk } from '../errors';
import type { BackfillPageRequest, BackfillPageResult } from './types';

// A backfill page's Clerk side: listing, parsing, and the look-ups of a user's organizations.

/** Clerk failures are decided by Clerk's classifier; everything else in a page is Salesforce's. */
export async function fromClerk<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyClerk(err);
  }
}

export function requireClerk(clerk: ClerkClient | undefined): ClerkClient {
  if (clerk) return clerk;
  throw ApplicationFailure.create({
    type: 'ClerkNotConfigured',
    message: 'CLERK_SECRET_KEY is not set: a backfill reads every record from Clerk',
    nonRetryable: true,
  });
}

export function parse<T>(schema: ClerkSchema<T>, raw: unknown): T | undefined {
  const checked = checkClerk(schema, raw);
  return checked.ok ? checked.value : undefined;
}

/** A page of a Clerk list as the SDK gives it: each item's id and raw JSON, and the list's total. */
export interface ListedPage {
  data: { id: string; raw: unknown }[];
  totalCount: number;
}

/** A listed page of organizations or users: its result to fill in, and its records parsed (an unusable one counts as failed). */
export function openPage<T>(
  kind: 'organizations' | 'users',
  schema: ClerkSchema<T>,
  page: ListedPage,
  input: BackfillPageRequest,
): { counts: BackfillCounts; result: BackfillPageResult; records: T[] } {
  const { offset } = input.cursor;
  const counts = emptyCounts();
  const result: BackfillPageResult = {
    counts: { [kind]: counts },
    accountIdsSet: 0,
    next: lastPage(offset, page.data.length, page.totalCount, input.pageSize)
      ? null
      : { ...input.cursor, offset: offset + page.data.length },
    total: page.totalCount,
    failures: [],
  };
  const records: T[] = [];
  for (const item of page.data) {
    counts.seen += 1;
    const record = parse(schema, item.raw);
    if (record) records.push(record);
    else {
      counts.failed += 1;
      result.failures.push({ kind, id: item.id, code: 'INVALID_CLERK_DATA' });
    }
  }
  return { counts, result, records };
}

/** The end of a Clerk list: a short page, or Clerk's total reached (no empty page to fetch after it). */
export const lastPage = (offset: number, length: number, total: number, pageSize: number) =>
  length < pageSize || offset + length >= total;

/**
 * Runs `fn` over `items`, `limit` at a time. After a failure no new item starts, but the running ones finish (and
 * heartbeat what they found) before the failure is thrown: the retry resumes from there.
 */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const run = async () => {
    while (!failure && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  if (failure) throw failure.err;
}

/** A user's organizations, oldest membership first (as `userMembershipsToSync` orders them); [] once deleted. */
export async function organizationsOf(clerk: ClerkClient, userId: string): Promise<string[]> {
  const memberships = await fromClerk(() => membershipsOfUser(clerk, userId));
  return (memberships ?? []).map((m) => m.organization.id);
}
