import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../src/local/temporal-server';
import { cacheDir } from '../src/local/temporal-cli';
import { freePort } from './helpers/net';

declare global {
  var __temporalDevServer: DevServer | undefined;
}

/** One real Temporal dev server (free port, in-memory state) and one workflow bundle for the whole run. */
export default async function globalSetup(): Promise<void> {
  // With its Web UI on a free port: the browser test (test/ui) looks at what operators see.
  const server = await startDevServer({ uiPort: await freePort() });
  globalThis.__temporalDevServer = server;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: quietLogger,
  });
  const dir = join(cacheDir(), 'test');
  mkdirSync(dir, { recursive: true });
  const codePath = join(dir, `workflow-bundle-${process.pid}.js`);
  writeFileSync(codePath, code);
  // Test workers inherit these: they attach to this server and reuse this bundle.
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  process.env.TEMPORAL_TEST_UI_URL = server.uiUrl;
  process.env.CLERK_SYNC_TEST_BUNDLE = codePath;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`bundle: ${message}\n`),
  error: (message: string) => process.stderr.write(`bundle: ${message}\n`),
};
