import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker, type Logger } from '@temporalio/worker';

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

/** Attaches to the run's dev server (started by global-setup). Call `teardown()` in afterAll. */
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
