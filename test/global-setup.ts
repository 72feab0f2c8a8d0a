import { join } from 'node:path';
import { startTemporalCluster, type TemporalCluster } from '../src/local/temporal-cluster';
import { startDevServer, type DevServer } from '../src/local/temporal-server';
import { cacheDir } from '../src/local/temporal-cli';
import { bundleOptions, writeBundle } from '../src/workflow-bundle';
import { freePort } from './helpers/net';
import { testEngine } from './helpers/temporal';

declare global {
  var __temporalDevServer: DevServer | undefined;
  var __temporalCluster: TemporalCluster | undefined;
}

/**
 * One real Temporal and one workflow bundle for the whole run. The engine is `CLERK_SYNC_TEST_TEMPORAL`: `dev`
 * (default), a CLI dev server on free ports with its Web UI and in-memory state; or `cluster`, the production
 * layout (the Temporal server on PostgreSQL, provisioned into .cache/ on first use: see README, Testing).
 */
export default async function globalSetup(): Promise<void> {
  const engine = testEngine();
  if (engine === 'cluster') {
    const started = Date.now();
    const cluster = await startTemporalCluster();
    globalThis.__temporalCluster = cluster;
    process.env.TEMPORAL_TEST_ADDRESS = cluster.address;
    process.stderr.write(
      `\nTemporal ${cluster.versions.temporal} on ${cluster.versions.postgres} at ${cluster.address} ` +
        `(${Math.round((Date.now() - started) / 1000)} s to provision and start; state in ${cluster.dir})\n`,
    );
  } else {
    // With its Web UI on a free port: the browser test (test/ui) looks at what operators see.
    const server = await startDevServer({ uiPort: await freePort() });
    globalThis.__temporalDevServer = server;
    process.env.TEMPORAL_TEST_ADDRESS = server.address;
    process.env.TEMPORAL_TEST_UI_URL = server.uiUrl;
  }
  process.env.CLERK_SYNC_TEST_TEMPORAL = engine;
  // The worker's bundle, from the TypeScript sources.
  const codePath = join(cacheDir(), 'test', `workflow-bundle-${process.pid}.js`);
  await writeBundle(codePath, bundleOptions(false));
  // Test workers inherit these: they attach to this server and reuse this bundle.
  process.env.CLERK_SYNC_TEST_BUNDLE = codePath;
}
