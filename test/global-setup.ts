import { join } from 'node:path';
import { startDevServer, type DevServer } from '../src/local/temporal-server';
import { cacheDir } from '../src/local/temporal-cli';
import { bundleOptions, writeBundle } from '../src/workflow-bundle';
import { freePort } from './helpers/net';

declare global {
  var __temporalDevServer: DevServer | undefined;
}

/** One real Temporal dev server (free port, in-memory state) and one workflow bundle for the whole run. */
export default async function globalSetup(): Promise<void> {
  // With its Web UI on a free port: the browser test (test/ui) looks at what operators see.
  const server = await startDevServer({ uiPort: await freePort() });
  globalThis.__temporalDevServer = server;
  // The worker's bundle, from the TypeScript sources.
  const codePath = join(cacheDir(), 'test', `workflow-bundle-${process.pid}.js`);
  await writeBundle(codePath, bundleOptions(false));
  // Test workers inherit these: they attach to this server and reuse this bundle.
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  process.env.TEMPORAL_TEST_UI_URL = server.uiUrl;
  process.env.CLERK_SYNC_TEST_BUNDLE = codePath;
}
