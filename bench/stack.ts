import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type Koa from 'koa';
import pino from 'pino';
import { createApp } from '../src/api/app';
import { createMetrics } from '../src/api/metrics';
import { startTemporalCluster } from '../src/local/temporal-cluster';
import { startDevServer, type DevServer } from '../src/local/temporal-server';
import { createLogger, type Logger } from '../src/logger';
import type { Sandbox } from '@clerk-sync/sandbox';
import { createStarter } from '../src/starter';
import { devServerPid } from './cpu';
import type { LoadGenerator } from './load-generator';
import type { Settings } from './settings';
import type { WorkerHost } from './worker-host';

/** What every section shares: the sandbox, the sender and worker processes, the bundles, the settings. */
export interface Bench {
  readonly settings: Settings;
  readonly sandbox: Sandbox;
  readonly generator: LoadGenerator;
  readonly host: WorkerHost;
  /** The webhook signing secret of every endpoint under test. */
  readonly secret: string;
  readonly bundles: { readonly product: string; readonly ceiling: string };
  /** Progress lines on stderr. */
  note(message: string): void;
}

/** A Temporal dev server of one repetition (fresh, in memory: nothing an earlier round left slows this one). */
export interface Temporal {
  readonly address: string;
  /** The server process, for its CPU time; undefined if /proc did not show it. */
  readonly pid?: number;
  /** The production layout's PostgreSQL (its postmaster, whose children are the connections' backends). */
  readonly databasePid?: number;
  readonly client: Client;
  close(): Promise<void>;
}

/**
 * Starts a fresh dev server with the search attributes registered, and a client on it; in memory, or persisting to
 * `dbFilename` (emptied first) as `npm start` runs it.
 */
export async function startTemporal(options: { dbFilename?: string } = {}): Promise<Temporal> {
  const { dbFilename } = options;
  if (dbFilename)
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbFilename}${suffix}`, { force: true });
  const server: DevServer = await startDevServer({ dbFilename });
  const connection = await Connection.connect({ address: server.address });
  return {
    address: server.address,
    pid: devServerPid(server.address),
    client: new Client({ connection }),
    close: async () => {
      await connection.close();
      await server.stop();
    },
  };
}

/** The production layout's Temporal and the versions it runs. */
export interface ClusterTemporal extends Temporal {
  readonly versions: { readonly temporal: string; readonly postgres: string };
}

/**
 * Starts the production layout as `npm run test:cluster` runs it (src/local/temporal-cluster.ts: the Temporal server
 * on PostgreSQL, provisioned into .cache on first use), with the search attributes usable, and a client on it.
 */
export async function startClusterTemporal(): Promise<ClusterTemporal> {
  const cluster = await startTemporalCluster();
  const connection = await Connection.connect({ address: cluster.address });
  return {
    address: cluster.address,
    pid: cluster.pids().server,
    databasePid: cluster.pids().postgres,
    versions: cluster.versions,
    client: new Client({ connection }),
    close: async () => {
      await connection.close();
      await cluster.stop();
    },
  };
}

/** A TCP port that was free a moment ago (for a process that must come back on the same port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An HTTP server on a free port. */
export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves a Koa app on 127.0.0.1 and a free port, as the tests do. */
export async function serve(app: Koa): Promise<Served> {
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/clerk`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The product's logger at its production level, writing to /dev/null: the cost of logging stays in. */
export function productLogger(): Logger {
  return createLogger('info', pino.destination({ dest: '/dev/null', sync: false }));
}

/** The product's API (createApp, as `clerk-sync api` builds it) starting workflows on `taskQueue`. */
export function productApi(client: Client, taskQueue: string, secret: string, logger: Logger): Koa {
  return createApp({
    signingSecrets: [secret],
    starter: createStarter({ client, taskQueue }),
    connection: client.connection as Connection,
    logger,
    metrics: createMetrics(),
  });
}

/** A task queue no other round uses. */
export function freshQueue(name: string): string {
  return `bench-${name}-${randomUUID()}`;
}

/** The environment `clerk-sync worker` reads, pointing at the bench's Temporal and sandbox. */
export function workerEnv(bench: Bench, address: string, taskQueue: string): Record<string, string> {
  return {
    ...bench.sandbox.env,
    CLERK_WEBHOOK_SIGNING_SECRET: bench.secret,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>',
    LOG_LEVEL: 'info',
  };
}

/**
 * The product on a fresh task queue: its API served in this process, its workers in the worker host (or in each of
 * `hosts`, worker processes sharing the queue).
 */
export async function startProduct(
  bench: Bench,
  t: Temporal,
  queue: string,
  hosts: readonly WorkerHost[] = [bench.host],
): Promise<Served & { taskQueue: string }> {
  const taskQueue = freshQueue(queue);
  const api = await serve(productApi(t.client, taskQueue, bench.secret, productLogger()));
  await Promise.all(
    hosts.map((host) =>
      host.send({
        cmd: 'product',
        address: t.address,
        env: workerEnv(bench, t.address, taskQueue),
        bundlePath: bench.bundles.product,
      }),
    ),
  );
  return {
    url: api.url,
    taskQueue,
    close: async () => {
      await Promise.all(hosts.map((host) => host.send({ cmd: 'stop' })));
      await api.close();
    },
  };
}

/** Polls until `check` gives a value or the deadline passes (then the last value, or undefined). */
export async function waitFor<T>(
  check: () => T | undefined,
  deadlineMs: number,
  everyMs = 100,
): Promise<T | undefined> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = check();
    if (value !== undefined || Date.now() > end) return value;
    await sleep(everyMs);
  }
}

/** VmRSS and VmHWM (peak) of a process, in MiB, from /proc. */
export function rssOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}
