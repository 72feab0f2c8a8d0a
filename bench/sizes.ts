import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { backfill } from '../src/cli/backfill';
import type { CallRecord } from '@clerk-sync/sandbox';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook } from '@clerk-sync/sandbox';
import type { SalesforceRecord } from '@clerk-sync/sandbox';
import type { BackfillReport } from '../src/workflows/backfill';
import { cpuMeter } from './cpu';
import { prepareSandbox } from './e2e';
import { REALISTIC, type LatencyProfile } from './latency';
import { RUN_DIR } from './paths';
import { rssOf, startProduct, startTemporal, type Bench, type Temporal } from './stack';
import { round } from './stats';

// Real sizes (issue 11): an organization of 10,000 members deleted, a user in 500 organizations signed up, a
// backfill of many users; on a Temporal dev server that persists to SQLite, as a deployment's server persists,
// with Salesforce at the latency profile's 150 ms median. A part whose result is wrong reports an error, not figures.

/** What every part measures. */
interface PartFigures {
  /** Delivery (or the backfill command's start) → the workflow's result. */
  seconds: number;
  /** Salesforce API calls (`/services/data/…`, the OAuth token call excluded) from delivery to result. */
  salesforceCalls: number;
  /** Seeding Clerk and Salesforce before the clock starts. */
  setupSeconds: number;
  /** One-minute load average before and after the measured part. */
  loadAverage: [number, number];
  /** Cores each process used during the measured part. */
  cpuCores: Record<string, number>;
}

export interface OrganizationDeletedFigures extends PartFigures {
  members: number;
  /** Other organizations half the members also belong to (their Contacts move there). */
  otherOrganizations: number;
  /** Memberships removed + Contacts moved or detached. */
  records: number;
  callsPer150Records: number;
  target: '≤ 1 call per 150 records';
  result: unknown;
}

export interface UserOrganizationsFigures extends PartFigures {
  organizations: number;
  memberships: number;
  welcomeEmails: number;
  result: unknown;
}

export interface BackfillFigures extends PartFigures {
  users: number;
  /** Clerk records the backfill looked at, all kinds (the sandbox's seed adds a few). */
  records: number;
  recordsPerSecond: number;
  callsPerRecord: number;
  /** The worker process (the bench's worker host): VmRSS before, at the end, highest sampled during the run. */
  workerRss: { beforeMiB: number; endMiB: number; maxMiB: number };
  totals: BackfillReport['totals'];
  pages: number;
  runs: number;
}

/** One part: its figures when its result was right; otherwise what was wrong (and what was measured, to debug). */
export interface SizesPart<T> {
  figures?: T;
  error?: string;
  measured?: Partial<T>;
}

/** What the sizes section reports. */
export interface SizesReport {
  temporal: string;
  latency: LatencyProfile;
  organizationDeleted: SizesPart<OrganizationDeletedFigures>;
  userInOrganizations: SizesPart<UserOrganizationsFigures>;
  backfill: SizesPart<BackfillFigures>;
}

/** The errors of a sizes report, one line per failed part. */
export function sizesErrors(r: SizesReport): string[] {
  return (
    [
      ['organization deleted', r.organizationDeleted],
      ['user in organizations', r.userInOrganizations],
      ['backfill', r.backfill],
    ] as const
  ).flatMap(([name, part]) => (part.error ? [`${name}: ${part.error}`] : []));
}

/** A result that is not what the part expects: the part reports it as an error. */
class WrongResult extends Error {
  constructor(
    readonly problems: string[],
    readonly measured: object,
  ) {
    super(`wrong result: ${problems.join('; ')}`);
  }
}

const isApiCall = (c: CallRecord) => c.path.startsWith('/services/data/') && c.path !== '/services/data/';

/**
 * Counts Salesforce API calls from now on. The sandbox keeps the newest 20,000 calls per service, so a long part
 * is counted by polling: every call after the last one seen, found by identity in the kept log.
 */
function countSalesforceCalls(bench: Bench): () => number {
  let last: CallRecord | undefined = bench.sandbox.calls('salesforce').at(-1);
  let count = 0;
  let lost = false;
  const poll = () => {
    const list = bench.sandbox.calls('salesforce');
    let from = 0;
    if (last) {
      from = list.lastIndexOf(last) + 1;
      if (from === 0) lost = true;
    }
    for (let i = from; i < list.length; i += 1) if (isApiCall(list[i]!)) count += 1;
    last = list.at(-1) ?? last;
  };
  const timer = setInterval(poll, 500);
  return () => {
    clearInterval(timer);
    poll();
    if (lost) throw new Error('the sandbox dropped Salesforce calls before they were counted');
    return count;
  };
}

/** Resolves with `work`, or rejects once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;
const load1 = () => Number(loadavg()[0]!.toFixed(2));
const seconds = (fromMs: number) => round((performance.now() - fromMs) / 1000);

/** Delivers one event signed through the product's API and waits for its workflow's result. */
async function sync(bench: Bench, t: Temporal, url: string, event: ClerkEvent, ms: number): Promise<unknown> {
  const res = await deliverWebhook(url, bench.secret, event);
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${event.type} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return within(t.client.workflow.getHandle(res.svixId).result(), ms, event.type);
}

/** What every part does around its measured step: a fresh sandbox with latency, the product, the meters. */
async function part<T extends PartFigures>(
  bench: Bench,
  t: Temporal,
  name: string,
  run: (
    product: { url: string; taskQueue: string },
    measure: <R>(step: () => Promise<R>) => Promise<{ value: R } & PartFigures>,
  ) => Promise<T>,
): Promise<SizesPart<T>> {
  prepareSandbox(bench, REALISTIC);
  const setupStart = performance.now();
  let product: Awaited<ReturnType<typeof startProduct>> | undefined;
  try {
    product = await startProduct(bench, t, 'sizes');
    const measure = async <R>(step: () => Promise<R>) => {
      const setupSeconds = seconds(setupStart);
      const loadBefore = load1();
      const calls = countSalesforceCalls(bench);
      const cpu = cpuMeter({ temporal: t.pid, worker: bench.host.pid, 'api+sandbox': process.pid });
      const t0 = performance.now();
      let value: R;
      let salesforceCalls: number;
      try {
        value = await step();
      } finally {
        salesforceCalls = calls(); // also stops its polling when the step failed
      }
      return {
        value,
        seconds: seconds(t0),
        salesforceCalls,
        setupSeconds,
        loadAverage: [loadBefore, load1()] as [number, number],
        cpuCores: cpu(),
      };
    };
    const figures = await run(product, measure);
    return { figures };
  } catch (err) {
    if (err instanceof WrongResult) {
      bench.note(`sizes ${name}: ${err.message}`);
      return { error: err.message, measured: err.measured };
    }
    const message = err instanceof Error ? err.message : String(err);
    bench.note(`sizes ${name} failed: ${message}`);
    return { error: message };
  } finally {
    await product?.close();
  }
}

/** Adds a problem when `ok` is false. */
function check(problems: string[], ok: boolean, problem: string): void {
  if (!ok) problems.push(problem);
}

const byField = (records: SalesforceRecord[], field: string, value: unknown) =>
  records.filter((r) => r[field] === value);

/**
 * organization.deleted of an organization with `members` members, seeded straight into Salesforce: every
 * member's Contact points at its Account, half of them also belong to one of a few other organizations.
 */
async function organizationDeleted(
  bench: Bench,
  t: Temporal,
): Promise<SizesPart<OrganizationDeletedFigures>> {
  const { orgMembers: n, otherOrgs, deadlineMs } = bench.settings.sizes;
  return part(bench, t, 'organization deleted', async (product, measure) => {
    const clerk = bench.sandbox.services.clerk;
    const salesforce = bench.sandbox.services.salesforce;
    const org = clerk.createOrganization({ name: `Sizes Org ${n}` });
    const others = Array.from({ length: otherOrgs }, (_, i) =>
      clerk.createOrganization({ name: `Sizes Elsewhere ${i}` }),
    );
    // The Accounts the product itself creates, through its API.
    for (const o of [org, ...others]) await sync(bench, t, product.url, o, 120_000);
    const accountOf = (orgId: string) => {
      const account = byField(salesforce.records('Account'), 'Clerk_Organization_Id__c', orgId)[0];
      if (!account) throw new Error(`no Account for ${orgId} after its organization.created`);
      return account.Id as string;
    };
    const accountId = accountOf(idOf(org));
    const otherIds = others.map((o) => accountOf(idOf(o)));
    const contacts = salesforce.insert(
      'Contact',
      Array.from({ length: n }, (_, i) => ({
        LastName: `Sizes Member ${i}`,
        Clerk_User_Id__c: `user_sizes_org_${i}`,
        Clerk_Status__c: 'Active',
        AccountId: accountId,
      })),
    );
    const otherOf = (i: number) => (i % 2 === 0 ? otherIds[(i / 2) % otherIds.length] : undefined);
    salesforce.insert(
      'Clerk_Membership__c',
      contacts.flatMap((contactId, i) => {
        const other = otherOf(i);
        return other
          ? [
              {
                Clerk_Membership_Id__c: `orgmem_sizes_other_${i}`,
                Role__c: 'org:member',
                Contact__c: contactId,
                Account__c: other,
              },
            ]
          : [];
      }),
    );
    salesforce.insert(
      'Clerk_Membership__c',
      contacts.map((contactId, i) => ({
        Clerk_Membership_Id__c: `orgmem_sizes_${i}`,
        Role__c: i % 10 === 0 ? 'org:admin' : 'org:member',
        Contact__c: contactId,
        Account__c: accountId,
      })),
    );
    const seeded = byField(salesforce.records('Clerk_Membership__c'), 'Account__c', accountId).length;
    if (seeded !== n) throw new Error(`seeded ${seeded} memberships, not ${n}`);
    bench.note(`sizes: organization of ${n} members seeded; deleting it`);

    const m = await measure(() =>
      sync(bench, t, product.url, clerk.deleteOrganization(idOf(org)), deadlineMs),
    );
    const records = 2 * n;
    const { value: result, ...figures } = m;
    const measured = {
      ...figures,
      members: n,
      otherOrganizations: otherOrgs,
      records,
      callsPer150Records: round((m.salesforceCalls * 150) / records),
      target: '≤ 1 call per 150 records' as const,
      result,
    };
    bench.note(
      `sizes organization deleted: ${n} members in ${m.seconds} s, ${m.salesforceCalls} Salesforce calls ` +
        `(${measured.callsPer150Records} per 150 records)`,
    );

    const problems: string[] = [];
    const memberships = salesforce.records('Clerk_Membership__c');
    const left = byField(memberships, 'Account__c', accountId).length;
    check(problems, left === 0, `${left} memberships left on the deleted organization's Account`);
    const kept = memberships.filter((x) => otherIds.includes(x.Account__c as string)).length;
    check(
      problems,
      kept === Math.ceil(n / 2),
      `${kept} memberships of the other Accounts, not ${Math.ceil(n / 2)}`,
    );
    const byId = new Map(salesforce.records('Contact').map((c) => [c.Id as string, c]));
    let pointing = 0;
    let misplaced = 0;
    for (const [i, id] of contacts.entries()) {
      const accountNow = byId.get(id)?.AccountId ?? null;
      if (accountNow === accountId) pointing += 1;
      else if (accountNow !== (otherOf(i) ?? null)) misplaced += 1;
    }
    check(problems, pointing === 0, `${pointing} Contacts still point at the deleted organization's Account`);
    check(problems, misplaced === 0, `${misplaced} Contacts not moved to their other membership's Account`);
    const status = byField(salesforce.records('Account'), 'Id', accountId)[0]?.Clerk_Status__c;
    check(problems, status === 'Deleted', `the Account's Clerk_Status__c is ${String(status)}`);
    const r = result as { membershipsRemoved?: number; contactsMoved?: number } | undefined;
    check(
      problems,
      r?.membershipsRemoved === n && r.contactsMoved === n,
      `the workflow reports ${JSON.stringify(result)}`,
    );
    check(
      problems,
      measured.callsPer150Records <= 1,
      `${m.salesforceCalls} Salesforce calls for ${records} records: over 1 per 150`,
    );
    if (problems.length > 0) throw new WrongResult(problems, measured);
    return measured;
  });
}

/** user.created of a user who joined `userOrgs` organizations before the webhook (none in Salesforce yet). */
async function userInOrganizations(bench: Bench, t: Temporal): Promise<SizesPart<UserOrganizationsFigures>> {
  const { userOrgs: n, deadlineMs } = bench.settings.sizes;
  return part(bench, t, 'user in organizations', async (product, measure) => {
    const clerk = bench.sandbox.services.clerk;
    const salesforce = bench.sandbox.services.salesforce;
    const email = 'agnes.agency@example.com';
    const user = clerk.createUser({ firstName: 'Agnes', lastName: 'Agency', emailAddress: [email] });
    const userId = idOf(user);
    const orgIds = new Set<string>();
    for (let i = 0; i < n; i += 1) {
      const org = clerk.createOrganization({ name: `Sizes Client ${i}` });
      orgIds.add(idOf(org));
      clerk.addMembership({
        organizationId: idOf(org),
        userId,
        role: i % 7 === 0 ? 'org:admin' : 'org:member',
      });
    }
    const emailsBefore = bench.sandbox.services.resend.emails().length;
    bench.note(`sizes: user in ${n} organizations created in Clerk; delivering user.created`);

    const m = await measure(() => sync(bench, t, product.url, user, deadlineMs));
    const { value: result, ...figures } = m;
    const contact = byField(salesforce.records('Contact'), 'Clerk_User_Id__c', userId)[0];
    const accounts = new Map(
      salesforce.records('Account').map((a) => [a.Id as string, a.Clerk_Organization_Id__c as string]),
    );
    const mine = contact ? byField(salesforce.records('Clerk_Membership__c'), 'Contact__c', contact.Id) : [];
    const orgsCovered = new Set(
      mine.map((x) => accounts.get(x.Account__c as string)).filter((o) => orgIds.has(o!)),
    );
    const welcomeEmails = bench.sandbox.services.resend
      .emails()
      .slice(emailsBefore)
      .filter((e) => e.to.includes(email)).length;
    const measured = { ...figures, organizations: n, memberships: mine.length, welcomeEmails, result };
    bench.note(
      `sizes user in ${n} organizations: ${m.seconds} s, ${m.salesforceCalls} Salesforce calls, ` +
        `${mine.length} memberships, ${welcomeEmails} welcome email(s)`,
    );

    const problems: string[] = [];
    check(problems, contact !== undefined, 'no Contact');
    check(problems, mine.length === n, `${mine.length} memberships in Salesforce, not ${n}`);
    check(
      problems,
      orgsCovered.size === n,
      `memberships cover ${orgsCovered.size} of the ${n} organizations`,
    );
    check(problems, welcomeEmails === 1, `${welcomeEmails} welcome emails, not 1`);
    const r = result as { memberships?: number; welcomeEmail?: string } | undefined;
    check(
      problems,
      r?.memberships === n && r.welcomeEmail === 'sent',
      `the workflow reports ${JSON.stringify(result)}`,
    );
    if (problems.length > 0) throw new WrongResult(problems, measured);
    return measured;
  });
}

/** `clerk-sync backfill` (the CLI's own function) over `backfillUsers` users made in Clerk, none in Salesforce. */
async function backfillUsers(bench: Bench, t: Temporal): Promise<SizesPart<BackfillFigures>> {
  const { backfillUsers: n, backfillDeadlineMs } = bench.settings.sizes;
  return part(bench, t, 'backfill', async (product, measure) => {
    const clerk = bench.sandbox.services.clerk;
    const ids = new Set<string>();
    // Spread over the last days, as real sign-ups are (and the store's clock stays near now).
    const base = Date.now() - 7 * 24 * 3600_000;
    for (let i = 0; i < n; i += 1) {
      const event = clerk.createUser({
        firstName: 'Backfill',
        lastName: `User${i}`,
        emailAddress: [`backfill.user${i}@example.com`],
        createdAt: base + i,
      });
      ids.add(idOf(event));
    }
    bench.note(`sizes: ${n} users in Clerk; backfilling`);

    const pid = bench.host.pid;
    const beforeMiB = rssOf(pid).rssMiB;
    let maxMiB = beforeMiB;
    const lines: string[] = [];
    const m = await measure(async () => {
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          maxMiB = Math.max(maxMiB, rssOf(pid).rssMiB);
          await sleep(1_000);
        }
      })();
      try {
        const out = { write: (s: string) => lines.push(s) };
        const run = backfill({}, { client: t.client, taskQueue: product.taskQueue, out, pollMs: 2_000 });
        return await within(run, backfillDeadlineMs, 'backfill');
      } finally {
        sampling = false;
        await sampler;
      }
    });
    const outcome = m.value;
    const endMiB = rssOf(pid).rssMiB;
    const report = outcome.report;
    const totals = report?.totals;
    const records = totals ? totals.organizations.seen + totals.users.seen + totals.memberships.seen : 0;
    const { value: _, ...figures } = m;
    const measured = {
      ...figures,
      users: n,
      records,
      recordsPerSecond: round(records / m.seconds),
      callsPerRecord: round(m.salesforceCalls / records),
      workerRss: { beforeMiB, endMiB, maxMiB: Math.max(maxMiB, endMiB) },
      ...(totals && { totals }),
      pages: report?.pages ?? 0,
      runs: report?.runs ?? 0,
    };
    bench.note(
      `sizes backfill: ${records} records in ${m.seconds} s (${measured.recordsPerSecond}/s), ` +
        `${m.salesforceCalls} Salesforce calls (${measured.callsPerRecord} per record), worker RSS ${beforeMiB} → ` +
        `${endMiB} MiB (max ${measured.workerRss.maxMiB})`,
    );

    const problems: string[] = [];
    check(
      problems,
      outcome.exitCode === 0,
      `exit code ${outcome.exitCode}: ${lines.join('').trim().split('\n').at(-1)}`,
    );
    check(problems, totals !== undefined, 'no report');
    if (totals) {
      const failed = totals.organizations.failed + totals.users.failed + totals.memberships.failed;
      check(problems, failed === 0, `${failed} records refused`);
      check(problems, totals.users.seen >= n, `${totals.users.seen} users seen, not ${n}`);
    }
    let written = 0;
    for (const c of bench.sandbox.services.salesforce.records('Contact'))
      if (ids.has(c.Clerk_User_Id__c as string) && c.Clerk_Status__c === 'Active') written += 1;
    check(problems, written === n, `${written} of the ${n} users have an active Contact`);
    if (problems.length > 0) throw new WrongResult(problems, measured);
    return measured as BackfillFigures;
  });
}

/**
 * Sizes: one durable dev server (SQLite under RUN_DIR, fresh per run) for the three parts, each with a fresh
 * sandbox at the REALISTIC latency profile and the product on a fresh task queue.
 */
export async function sizesSection(bench: Bench): Promise<SizesReport> {
  const dbFilename = join(RUN_DIR, 'sizes-temporal.db');
  const t = await startTemporal({ dbFilename });
  try {
    const organizationDeleted_ = await organizationDeleted(bench, t);
    const userInOrganizations_ = await userInOrganizations(bench, t);
    const backfill_ = await backfillUsers(bench, t);
    return {
      temporal: `temporal server start-dev --db-filename ${dbFilename} (SQLite, fresh per run)`,
      latency: REALISTIC,
      organizationDeleted: organizationDeleted_,
      userInOrganizations: userInOrganizations_,
      backfill: backfill_,
    };
  } finally {
    await t.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbFilename}${suffix}`, { force: true });
  }
}
