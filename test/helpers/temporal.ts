import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker, type Logger } from '@temporalio/worker';
import { startTemporalCluster, type TemporalCluster } from '../../src/local/temporal-cluster';
import { startDevServer, type DevServer } from '../../src/local/temporal-server';
import { freePort } from './net';

/**
 * The Temporal the tests run on, chosen by `CLERK_SYNC_TEST_TEMPORAL`: `dev` (default), the CLI's dev server (one
 * process, SQLite), or `cluster`, the production layout (the Temporal server on PostgreSQL, src/local/temporal-cluster.ts).
 */
export type TestEngine = 'dev' | 'cluster';

export function testEngine(env: NodeJS.ProcessEnv = process.env): TestEngine {
  const value = env.CLERK_SYNC_TEST_TEMPORAL ?? 'dev';
  if (value !== 'dev' && value !== 'cluster')
    throw new Error(`CLERK_SYNC_TEST_TEMPORAL=${value}: use dev (the default) or cluster`);
  return value;
}

/** A Temporal of a test file's own, on the run's engine, that a fault can stop and start again on its state. */
export interface OwnTemporal {
  readonly engine: TestEngine;
  readonly address: string;
  /** The cluster's parts (PostgreSQL) on the production layout; undefined on the dev server. */
  readonly cluster?: TemporalCluster;
  /** Stops the Temporal server; its state stays (a file for the dev server, PostgreSQL for the cluster). */
  stopServer(): Promise<void>;
  /** Starts it again on the same address and state; resolves once it serves the namespace. */
  startServer(): Promise<void>;
  /** Stops everything and removes the state. */
  close(): Promise<void>;
}

/** Starts a Temporal of the file's own (`testEngine()`), with SPEC.md's search attributes usable. */
export async function startOwnTemporal(): Promise<OwnTemporal> {
  if (testEngine() === 'cluster') {
    const cluster = await startTemporalCluster();
    return {
      engine: 'cluster',
      address: cluster.address,
      cluster,
      stopServer: () => cluster.stopServer(),
      startServer: () => cluster.startServer(),
      close: () => cluster.stop(),
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'clerk-sync-dev-'));
  const dbFilename = join(dir, 'temporal.db');
  let server: DevServer | undefined = await startDevServer({ port, dbFilename });
  const address = server.address;
  return {
    engine: 'dev',
    address,
    async stopServer() {
      await server?.stop();
      server = undefined;
    },
    async startServer() {
      server = await startDevServer({ port, dbFilename });
    },
    async close() {
      await server?.stop();
      server = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let runtimeInstalled = false;

/**
 * Installs the SDK runtime of this test file (jest gives each file its own modules): by default it logs only
 * warnings and errors; a test that reads the logs passes its own logger before anything else runs.
 */
export function quietRuntime(logger: Logger = new DefaultLogger('WARN')): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger });
  runtimeInstalled = true;
}

/** Attaches to the run's Temporal (started by global-setup, either engine). Call `teardown()` in afterAll. */
export async function attachTemporal(): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address)
    throw new Error('TEMPORAL_TEST_ADDRESS is not set: run the tests through jest (global-setup)');
  quietRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address });
}

/** A task queue no other test polls. */
export function uniqueTaskQueue(name = 'test'): string {
  return `${name}-${randomUUID()}`;
}

/** A worker on `taskQueue` with the run's workflow bundle; run it with `worker.runUntil(...)`. */
export async function createTestWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: object = {},
): Promise<Worker> {
  const codePath = process.env.CLERK_SYNC_TEST_BUNDLE;
  if (!codePath)
    throw new Error('CLERK_SYNC_TEST_BUNDLE is not set: run the tests through jest (global-setup)');
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath },
    activities,
  });
}

/** Polls `check` until it is truthy or `timeoutMs` passes; never a fixed sleep. */
export async function waitUntil<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
