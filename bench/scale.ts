import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMeter } from './cpu';
import { contactsCreated, prepareSandbox, syncRound, type SyncRound } from './e2e';
import { signUpTemplate } from './ingest';
import { UID } from './load-generator';
import { BIN, RUN_DIR } from './paths';
import {
  freshQueue,
  productApi,
  productLogger,
  rssOf,
  serve,
  startTemporal,
  waitFor,
  workerEnv,
  type Bench,
  type Served,
  type Temporal,
} from './stack';
import { median, pairRatios, rotate, round } from './stats';

/** One `clerk-sync worker` process. */
interface WorkerProcess {
  proc: ChildProcess;
  log: string;
  /** Spawn → "worker polling" (bundling included), ms. */
  startupMs: number;
  idleRssMiB: number;
}

/** Workers sharing one task queue, behind their own API. */
interface Group {
  name: '1 worker' | '2 workers';
  taskQueue: string;
  workers: WorkerProcess[];
  api: Served;
}

/** One scale round: the sync figures and the workers' memory. */
export interface ScaleRound extends SyncRound {
  workers: number;
  /** Per worker process: VmRSS at the end of the round and the highest sampled during it, MiB. */
  rssEndMiB: number[];
  rssMaxMiB: number[];
}

/** What the scale section reports. */
export interface ScaleReport {
  events: string;
  startupMs: number[];
  idleRssMiB: number[];
  pairs: {
    events: number;
    one: ScaleRound[];
    two: ScaleRound[];
    twoOverOne: number[];
    medianTwoOverOne: number;
  };
  sizes: ScaleRound[];
  /** Throughput and end-of-round RSS of each larger size against the first size (same worker, one after the other). */
  growth: { events: number; baseEvents: number; throughputRatio: number; rssRatio: number; rssTarget: 1.1 }[];
}

/** Spawns `clerk-sync worker` (the bench's compilation of bin.ts) and waits until it polls. */
async function spawnWorker(bench: Bench, t: Temporal, taskQueue: string, n: number): Promise<WorkerProcess> {
  const log = join(RUN_DIR, `worker-${n}.log`);
  const fd = openSync(log, 'w');
  const started = performance.now();
  const proc = spawn(process.execPath, [BIN, 'worker'], {
    cwd: RUN_DIR, // no .env there: the environment below is the whole configuration
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...workerEnv(bench, t.address, taskQueue),
    },
    stdio: ['ignore', fd, fd],
  });
  const ready = await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`worker ${n} exited with ${proc.exitCode}: see ${log}`);
      return existsSync(log) && readFileSync(log, 'utf8').includes('"worker polling"') ? true : undefined;
    },
    180_000,
    200,
  );
  if (!ready) throw new Error(`worker ${n} did not start polling within 3 minutes: see ${log}`);
  return {
    proc,
    log,
    startupMs: Math.round(performance.now() - started),
    idleRssMiB: rssOf(proc.pid!).rssMiB,
  };
}

async function stopWorker(w: WorkerProcess): Promise<void> {
  if (w.proc.exitCode !== null) return;
  const exited = new Promise((resolve) => w.proc.once('exit', resolve));
  w.proc.kill('SIGTERM'); // the SDK shuts the workers down gracefully
  const patience = setTimeout(() => w.proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(patience);
}

/** `n` user.updated deliveries (one Salesforce call each, no notices) through a group's API; waits for every write. */
async function scaleRound(
  bench: Bench,
  t: Temporal,
  group: Group,
  template: string,
  n: number,
): Promise<ScaleRound> {
  const { concurrency, deadlineMsPer1k } = bench.settings.scale;
  prepareSandbox(bench, undefined);
  const pids = group.workers.map((w) => w.proc.pid!);
  const rssMax = pids.map(() => 0);
  const cpu = cpuMeter({
    temporal: t.pid,
    ...Object.fromEntries(pids.map((pid, i) => [`worker ${i + 1}`, pid])),
    'api+sandbox': process.pid,
    sender: bench.generator.pid,
  });
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      pids.forEach((pid, i) => (rssMax[i] = Math.max(rssMax[i]!, rssOf(pid).rssMiB)));
      await sleep(500);
    }
  })();
  try {
    const burst = await bench.generator.run({
      kind: 'burst',
      url: group.api.url,
      secret: bench.secret,
      source: { kind: 'template', template },
      count: n,
      concurrency,
      timeoutMs: 15_000,
    });
    const users = new Set(burst.keys);
    const deadline = Math.max(30_000, (deadlineMsPer1k * n) / 1000);
    const done = await waitFor(
      () => {
        if (bench.sandbox.services.salesforce.records('Contact').length < n) return undefined;
        const created = contactsCreated(bench, users);
        return created.size >= n ? created : undefined;
      },
      deadline,
      250,
    );
    const sentAt = new Map(burst.keys.map((k, i) => [k, burst.sentAt[i]!]));
    const failed = burst.status.filter((s) => s < 200 || s >= 300).length;
    const result = syncRound(n, sentAt, done ?? contactsCreated(bench, users), failed, done === undefined);
    return {
      ...result,
      cpuCores: cpu(),
      workers: group.workers.length,
      rssEndMiB: pids.map((pid) => rssOf(pid).rssMiB),
      rssMaxMiB: rssMax,
    };
  } finally {
    sampling = false;
    await sampler;
  }
}

/**
 * Scale: `clerk-sync worker` processes (1, and 2 sharing a queue) on one dev server; alternated 1-versus-2 rounds
 * at the small size, then larger single rounds on the one worker, with its RSS from /proc.
 */
export async function scaleSection(bench: Bench): Promise<ScaleReport> {
  const { pairEvents, sizes } = bench.settings.scale;
  const template = signUpTemplate(bench).replace('"user.created"', '"user.updated"');
  if (!template.includes(UID)) throw new Error('template without a user id placeholder');
  const t = await startTemporal();
  const groups: Group[] = [];
  const spawned: WorkerProcess[] = [];
  let count = 0;
  const spawnOne = async (taskQueue: string) => {
    const w = await spawnWorker(bench, t, taskQueue, ++count);
    spawned.push(w);
    return w;
  };
  try {
    const queues = [freshQueue('scale-1'), freshQueue('scale-2')];
    // Each bundles the workflows at start-up, which is itself a figure: the first one alone gives it clean.
    const one = [await spawnOne(queues[0]!)];
    const two = await Promise.all([spawnOne(queues[1]!), spawnOne(queues[1]!)]);
    const logger = productLogger();
    for (const [name, taskQueue, workers] of [
      ['1 worker', queues[0]!, one],
      ['2 workers', queues[1]!, two],
    ] as const) {
      groups.push({
        name,
        taskQueue,
        workers,
        api: await serve(productApi(t.client, taskQueue, bench.secret, logger)),
      });
    }
    const all = [...one, ...two];
    bench.note(`scale: workers polling after ${all.map((w) => w.startupMs).join(', ')} ms`);

    const rounds: Record<Group['name'], ScaleRound[]> = { '1 worker': [], '2 workers': [] };
    for (let rep = 0; rep < bench.settings.pairs; rep++) {
      for (const g of rotate(groups, rep)) {
        const r = await scaleRound(bench, t, g, template, pairEvents);
        rounds[g.name].push(r);
        bench.note(
          `scale rep ${rep + 1} ${g.name}: ${r.completed}/${r.events} ${r.perSecond}/s, RSS ${r.rssEndMiB.join('+')} MiB` +
            `${r.incomplete ? ' (deadline)' : ''}`,
        );
      }
    }
    const sized: ScaleRound[] = [];
    for (const n of sizes) {
      const r = await scaleRound(bench, t, groups[0]!, template, n);
      sized.push(r);
      bench.note(`scale ${n} on 1 worker: ${r.completed}/${n} ${r.perSecond}/s, RSS ${r.rssEndMiB[0]} MiB`);
    }
    const oneRounds = rounds['1 worker'];
    const base = sized[0];
    const twoOverOne = pairRatios(
      rounds['2 workers'].map((r) => r.perSecond),
      oneRounds.map((r) => r.perSecond),
    ).map(round);
    return {
      events:
        'user.updated (syncUser: one Salesforce call, no notices), fresh user ids, ' +
        `${bench.settings.scale.concurrency} deliveries in flight`,
      startupMs: all.map((w) => w.startupMs),
      idleRssMiB: all.map((w) => w.idleRssMiB),
      pairs: {
        events: pairEvents,
        one: oneRounds,
        two: rounds['2 workers'],
        twoOverOne,
        medianTwoOverOne: round(median(twoOverOne)),
      },
      sizes: sized,
      growth: sized.slice(1).map((r) => ({
        events: r.events,
        baseEvents: base!.events,
        throughputRatio: round(r.perSecond / base!.perSecond),
        rssRatio: round(r.rssEndMiB[0]! / base!.rssEndMiB[0]!),
        rssTarget: 1.1,
      })),
    };
  } finally {
    for (const g of groups) await g.api.close();
    for (const w of spawned) await stopWorker(w);
    await t.close();
  }
}
