import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { cpuMeter } from './cpu';
import { REALISTIC, latencyRules, type LatencyProfile } from './latency';
import { runAll } from './pacing';
import { RUN_DIR } from './paths';
import {
  freshQueue,
  startClusterTemporal,
  startProduct,
  startTemporal,
  waitFor,
  type Bench,
  type Temporal,
} from './stack';
import { latency, median, pairRatios, rotate, round, type Latency } from './stats';
import { WorkerHost } from './worker-host';

/** One round: N deliveries (or starts) and when each sync's Salesforce write happened. */
export interface SyncRound {
  events: number;
  completed: number;
  failedDeliveries: number;
  /** Completed syncs per second: writes / (last write − first delivery). */
  perSecond: number;
  /** Delivery (or start call) → Salesforce write (or the ceiling's write activity), ms. */
  latency: Latency;
  /** The round did not finish before its deadline: the figures cover the writes done by then. */
  incomplete?: boolean;
  /** Cores each process used during the round (Temporal server, workers, API + sandbox, sender). */
  cpuCores?: Record<string, number>;
}

/** Per server and latency profile: both variants' rounds, and the per-pair ratios. */
export interface ProfileReport {
  /**
   * `durable`: the dev server persisting to a SQLite file (as `npm start` runs it); `memory`: in memory; `cluster`:
   * the production layout, the Temporal server on PostgreSQL (`--engine=cluster`).
   */
  server: 'durable' | 'memory' | 'cluster';
  profile: LatencyProfile | 'zero';
  /** Worker processes sharing the task queue, product and ceiling alike (1 unless said). */
  workers?: number;
  product: SyncRound[];
  ceiling: SyncRound[];
  median: { product: SyncRound; ceiling: SyncRound };
  ratios: { throughput: number[]; p50: number[]; p99: number[] };
  medianRatio: { throughput: number; p50: number; p99: number };
}

/** The production layout's rows (`--engine=cluster`): what it runs, and what a second worker process gives. */
export interface ClusterE2e {
  versions: { temporal: string; postgres: string };
  /** Per pair, syncs/s with 2 worker processes over 1, for the product and for the ceiling. */
  twoOverOne: { product: number[]; ceiling: number[] };
  medianTwoOverOne: { product: number; ceiling: number };
}

/** What the e2e section reports. */
export interface E2eReport {
  events: number;
  concurrency: number;
  profiles: ProfileReport[];
  cluster?: ClusterE2e;
}

/** Sign-ups made in the sandbox's Clerk (so look-ups find the user), as Clerk would send them. */
export function signUps(bench: Bench, n: number): ClerkEvent[] {
  const clerk = bench.sandbox.services.clerk;
  return Array.from({ length: n }, (_, i) =>
    clerk.createUser({
      firstName: 'Bench',
      lastName: `User${i}`,
      emailAddress: [`bench.${randomUUID()}@example.com`],
    }),
  );
}

const userId = (e: ClerkEvent) => (e.data as { id: string }).id;

/** Builds a round's figures from send times and write times (epoch ms) keyed alike. */
export function syncRound(
  events: number,
  sentAt: Map<string, number>,
  writtenAt: Map<string, number>,
  failedDeliveries: number,
  incomplete: boolean,
): SyncRound {
  const latencies: number[] = [];
  let lastWrite = -Infinity;
  for (const [key, at] of writtenAt) {
    const sent = sentAt.get(key);
    if (sent === undefined) continue;
    latencies.push(at - sent);
    lastWrite = Math.max(lastWrite, at);
  }
  let firstSend = Infinity;
  for (const at of sentAt.values()) firstSend = Math.min(firstSend, at);
  return {
    events,
    completed: latencies.length,
    failedDeliveries,
    perSecond: round((latencies.length * 1000) / (lastWrite - firstSend)),
    latency: latency(latencies),
    ...(incomplete && { incomplete }),
  };
}

/** When each Contact of these users was created in the sandbox's Salesforce (epoch ms). */
export function contactsCreated(bench: Bench, users: ReadonlySet<string>): Map<string, number> {
  const created = new Map<string, number>();
  for (const c of bench.sandbox.services.salesforce.records('Contact')) {
    const id = c.Clerk_User_Id__c as string;
    if (users.has(id)) created.set(id, Date.parse(c.CreatedDate as string));
  }
  return created;
}

/** Resets the sandbox and applies a latency profile (none: zero latency). */
export function prepareSandbox(bench: Bench, profile: LatencyProfile | undefined): void {
  bench.sandbox.reset();
  bench.sandbox.services.salesforce.setDailyApiLimit(1e9);
  if (profile) for (const rule of latencyRules(profile)) bench.sandbox.faults.add(rule);
}

/** CPU meter keys of the engine: the Temporal server, and on the production layout PostgreSQL with its backends. */
const enginePids = (t: Temporal) => ({
  temporal: t.pid,
  ...(t.databasePid !== undefined && { postgres: { tree: t.databasePid } }),
});

/** CPU meter keys of the worker processes: `worker`, or `worker 1`, `worker 2`. */
const workerPids = (hosts: readonly WorkerHost[]) =>
  hosts.length === 1
    ? { worker: hosts[0]!.pid }
    : Object.fromEntries(hosts.map((h, i) => [`worker ${i + 1}`, h.pid]));

/** The product: deliveries through the API to the workers (their own processes) and the sandbox. */
async function productRound(
  bench: Bench,
  t: Temporal,
  profile?: LatencyProfile,
  hosts: readonly WorkerHost[] = [bench.host],
): Promise<SyncRound> {
  const { events: n, concurrency, deadlineMs } = bench.settings.e2e;
  prepareSandbox(bench, profile);
  const events = signUps(bench, n);
  const api = await startProduct(bench, t, 'e2e', hosts);
  const cpu = cpuMeter({
    ...enginePids(t),
    ...workerPids(hosts),
    'api+sandbox': process.pid,
    sender: bench.generator.pid,
  });
  try {
    const burst = await bench.generator.run({
      kind: 'burst',
      url: api.url,
      secret: bench.secret,
      source: { kind: 'bodies' },
      bodies: events.map((e) => JSON.stringify(e)),
      count: n,
      concurrency,
      timeoutMs: 15_000,
    });
    const users = new Set(events.map(userId));
    const done = await waitFor(() => {
      const created = contactsCreated(bench, users);
      return created.size >= n ? created : undefined;
    }, deadlineMs);
    const written = done ?? contactsCreated(bench, users);
    const sentAt = new Map(events.map((e, i) => [userId(e), burst.sentAt[i]!]));
    const failed = burst.status.filter((s) => s < 200 || s >= 300).length;
    return { ...syncRound(n, sentAt, written, failed, done === undefined), cpuCores: cpu() };
  } finally {
    await api.close();
  }
}

/**
 * The engine ceiling: the same number of starts of the minimal durable shape (two no-op activities, no child
 * workflow: bench/ceiling-workflows.ts), same concurrency.
 */
async function ceilingRound(
  bench: Bench,
  t: Temporal,
  profile?: LatencyProfile,
  hosts: readonly WorkerHost[] = [bench.host],
): Promise<SyncRound> {
  const { events: n, concurrency, deadlineMs } = bench.settings.e2e;
  bench.sandbox.reset();
  const events = signUps(bench, n);
  const taskQueue = freshQueue('ceiling');
  await Promise.all(
    hosts.map((host) =>
      host.send({
        cmd: 'ceiling',
        address: t.address,
        taskQueue,
        bundlePath: bench.bundles.ceiling,
        profile,
      }),
    ),
  );
  const cpu = cpuMeter({ ...enginePids(t), ...workerPids(hosts), 'starter+sandbox': process.pid });
  try {
    const sentAt = new Map<string, number>();
    let failed = 0;
    await runAll(events, concurrency, async (event) => {
      const id = `ceiling-${randomUUID()}`;
      sentAt.set(id, Date.now());
      await t.client.workflow
        .start('ceilingSync', { taskQueue, workflowId: id, args: [{ id, event }] })
        .catch(() => (failed += 1));
    });
    let writes: [string, number][] = [];
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      writes = (await Promise.all(hosts.map((host) => host.send({ cmd: 'writes' })))).flat();
      if (writes.length >= n) break;
      await sleep(100);
    }
    return { ...syncRound(n, sentAt, new Map(writes), failed, writes.length < n), cpuCores: cpu() };
  } finally {
    await Promise.all(hosts.map((host) => host.send({ cmd: 'stop' })));
  }
}

const middleRound = (rounds: SyncRound[]): SyncRound => ({
  events: rounds[0]!.events,
  completed: median(rounds.map((r) => r.completed)),
  failedDeliveries: median(rounds.map((r) => r.failedDeliveries)),
  perSecond: round(median(rounds.map((r) => r.perSecond))),
  latency: {
    p50: round(median(rounds.map((r) => r.latency.p50))),
    p99: round(median(rounds.map((r) => r.latency.p99))),
  },
});

/** A fresh dev server per repetition: persisting to a fresh SQLite file, as `npm start` runs it, or in memory. */
function startServer(server: 'durable' | 'memory'): Promise<Temporal> {
  return startTemporal(server === 'durable' ? { dbFilename: join(RUN_DIR, 'e2e-temporal.db') } : {});
}

type Variant = 'product' | 'ceiling';
type Rounds = Record<Variant, SyncRound[]>;

/** One round of a variant, with its progress line. */
async function measure(
  bench: Bench,
  t: Temporal,
  label: string,
  v: Variant,
  profile?: LatencyProfile,
  hosts?: readonly WorkerHost[],
): Promise<SyncRound> {
  const r =
    v === 'product'
      ? await productRound(bench, t, profile, hosts)
      : await ceilingRound(bench, t, profile, hosts);
  bench.note(
    `e2e ${label} ${v}: ${r.completed}/${r.events} ` +
      `${r.perSecond}/s p50 ${r.latency.p50} p99 ${r.latency.p99} ms${r.incomplete ? ' (deadline)' : ''}; ` +
      `cores ${Object.entries(r.cpuCores ?? {})
        .map(([k, c]) => `${k} ${c}`)
        .join(', ')}`,
  );
  return r;
}

/** A row of the table: both variants' rounds, their medians and the per-pair product/ceiling ratios. */
function profileReport(
  row: Pick<ProfileReport, 'server' | 'profile' | 'workers'>,
  rounds: Rounds,
): ProfileReport {
  const ratio = (of: (r: SyncRound) => number) =>
    pairRatios(rounds.product.map(of), rounds.ceiling.map(of)).map(round);
  const ratios = {
    throughput: ratio((r) => r.perSecond),
    p50: ratio((r) => r.latency.p50),
    p99: ratio((r) => r.latency.p99),
  };
  return {
    ...row,
    ...rounds,
    median: { product: middleRound(rounds.product), ceiling: middleRound(rounds.ceiling) },
    ratios,
    medianRatio: {
      throughput: round(median(ratios.throughput)),
      p50: round(median(ratios.p50)),
      p99: round(median(ratios.p99)),
    },
  };
}

/** The dev server's rows: durable at zero latency and with the realistic profile, in memory at zero latency. */
async function devRows(bench: Bench): Promise<ProfileReport[]> {
  const rows: { server: 'durable' | 'memory'; profile?: LatencyProfile }[] = [
    { server: 'durable' },
    { server: 'durable', profile: REALISTIC },
    { server: 'memory' },
  ];
  const reports: ProfileReport[] = [];
  for (const { server, profile } of rows) {
    const rounds: Rounds = { product: [], ceiling: [] };
    for (let rep = 0; rep < bench.settings.e2e.pairs; rep++) {
      const t = await startServer(server);
      try {
        for (const v of rotate(['product', 'ceiling'] as const, rep))
          rounds[v].push(
            await measure(bench, t, `${server} ${profile ? 'latency' : 'zero'} rep ${rep + 1}`, v, profile),
          );
      } finally {
        await t.close();
      }
    }
    reports.push(profileReport({ server, profile: profile ?? 'zero' }, rounds));
  }
  return reports;
}

/**
 * The production layout's rows, at zero latency: product and ceiling with 1 worker process and with 2 sharing the
 * queue (the bench's worker host and a second one), the four alternated in each repetition, on one cluster (a fresh
 * task queue per round; starting a cluster takes seconds of schema set-up).
 */
async function clusterRows(bench: Bench): Promise<{ reports: ProfileReport[]; cluster: ClusterE2e }> {
  const t = await startClusterTemporal();
  bench.note(`e2e cluster: Temporal ${t.versions.temporal} on ${t.versions.postgres} at ${t.address}`);
  const second = WorkerHost.start();
  const groups = { 1: [bench.host], 2: [bench.host, second] } as const;
  const rounds: Record<1 | 2, Rounds> = { 1: { product: [], ceiling: [] }, 2: { product: [], ceiling: [] } };
  const variants = [
    [1, 'product'],
    [1, 'ceiling'],
    [2, 'product'],
    [2, 'ceiling'],
  ] as const;
  try {
    for (let rep = 0; rep < bench.settings.e2e.pairs; rep++) {
      for (const [workers, v] of rotate(variants, rep)) {
        const label = `cluster ${workers} worker${workers > 1 ? 's' : ''} zero rep ${rep + 1}`;
        rounds[workers][v].push(await measure(bench, t, label, v, undefined, groups[workers]));
      }
    }
  } finally {
    await second.close();
    await t.close();
  }
  const twoOverOne = (v: Variant) =>
    pairRatios(
      rounds[2][v].map((r) => r.perSecond),
      rounds[1][v].map((r) => r.perSecond),
    ).map(round);
  const ratios = { product: twoOverOne('product'), ceiling: twoOverOne('ceiling') };
  return {
    reports: ([1, 2] as const).map((workers) =>
      profileReport({ server: 'cluster', profile: 'zero', workers }, rounds[workers]),
    ),
    cluster: {
      versions: t.versions,
      twoOverOne: ratios,
      medianTwoOverOne: { product: round(median(ratios.product)), ceiling: round(median(ratios.ceiling)) },
    },
  };
}

/**
 * End to end: N sign-ups through the API, the real workflows and workers and the sandbox, against the engine
 * ceiling (issue 13: the minimal durable shape), on each engine of `--engine`: the dev server (durable at zero
 * latency and with the realistic profile, whose draws the ceiling's no-ops sleep too; in memory at zero latency),
 * and the production layout (1 and 2 worker processes).
 */
export async function e2eSection(bench: Bench): Promise<E2eReport> {
  const report: E2eReport = {
    events: bench.settings.e2e.events,
    concurrency: bench.settings.e2e.concurrency,
    profiles: [],
  };
  if (bench.settings.engines.includes('dev')) report.profiles.push(...(await devRows(bench)));
  if (bench.settings.engines.includes('cluster')) {
    const { reports, cluster } = await clusterRows(bench);
    report.profiles.push(...reports);
    report.cluster = cluster;
  }
  return report;
}
