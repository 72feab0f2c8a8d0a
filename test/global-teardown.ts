import { rmSync } from 'node:fs';

/** Stops the run's Temporal (dev server or cluster) and removes its workflow bundle. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__temporalDevServer?.stop();
  await globalThis.__temporalCluster?.stop();
  if (process.env.CLERK_SYNC_TEST_BUNDLE) rmSync(process.env.CLERK_SYNC_TEST_BUNDLE, { force: true });
}
