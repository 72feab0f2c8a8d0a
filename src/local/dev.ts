import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, readEnv } from '../config';
import { createSandbox, type Sandbox } from '@clerk-sync/sandbox';
import { startApi } from '../api/main';
import { CODEC_PATH } from '../api/codec-server';
import { startupDoctor } from '../cli/doctor';
import { createClients } from '../clients';
import { connectionOptions, registerSearchAttributes } from '../temporal';
import { createWorkers, installRuntimeLogger, runWorkers } from '../worker';
import { startDevServer, type DevServer } from './temporal-server';
import { createLocalLogger } from './terminal-log';
import { needsSandbox, sandboxOverrides } from './sandbox-env';
import { dataDir, localEncryptionKey, localSigningSecret } from './state';

/**
 * `npm start`: a Temporal dev server with its Web UI (state in .data/), the sandbox for every service without
 * credentials, the worker and the API, in one process. Ctrl-C stops everything.
 */
export async function runDev(opts: {
  port?: number;
  temporalPort: number;
  uiPort: number;
  sandboxPort: number;
}): Promise<void> {
  const baseEnv = readEnv();
  const logger = createLocalLogger(baseEnv.LOG_LEVEL ?? 'info'); // readable lines in a terminal, JSON otherwise
  installRuntimeLogger(logger);
  const lines: string[] = [];

  let secret = baseEnv.CLERK_WEBHOOK_SIGNING_SECRET ?? baseEnv.CLERK_WEBHOOK_SECRET;
  if (!secret) {
    const local = localSigningSecret();
    secret = local.secret;
    lines.push(`Signing secret (${local.generated ? 'generated' : 'kept'} in .data/local.json): ${secret}`);
  }
  const apiPort = opts.port ?? Number(baseEnv.PORT ?? 3000);

  // Histories are encrypted locally too (issue 6), so the Web UI shows what operators see in production: payloads
  // decoded by the API's codec server. A key of our own only with a dev server of our own, whose UI we wire to it.
  let encryptionKey = baseEnv.CLERK_SYNC_ENCRYPTION_KEY;
  if (!encryptionKey && !baseEnv.TEMPORAL_ADDRESS) {
    const local = localEncryptionKey();
    encryptionKey = local.entry;
    lines.push(
      `Encryption key ${local.keyId} (${local.generated ? 'generated' : 'kept'} in .data/local.json)`,
    );
  }
  const codecEndpoint = encryptionKey ? `http://localhost:${apiPort}${CODEC_PATH}` : undefined;

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err: unknown) => logger.warn({ err }, 'stop failed'));
  };
  try {
    let sandbox: Sandbox | undefined;
    if (needsSandbox(baseEnv)) {
      sandbox = await createSandbox({
        port: opts.sandboxPort,
        webhook: { url: `http://localhost:${apiPort}/webhooks/clerk`, secret: secret.split(/[\s,]+/)[0]! },
      });
      const s = sandbox;
      stops.push(() => s.close());
    }

    let server: DevServer | undefined;
    if (!baseEnv.TEMPORAL_ADDRESS) {
      server = await startDevServer({
        port: opts.temporalPort,
        uiPort: opts.uiPort,
        dbFilename: join(dataDir(), 'temporal.db'),
        codecEndpoint,
        logger,
      });
      const s = server;
      stops.push(() => s.stop());
    }

    const config = loadConfig({
      ...baseEnv,
      ...(sandbox ? sandboxOverrides(baseEnv, sandbox.env) : {}),
      CLERK_WEBHOOK_SIGNING_SECRET: secret,
      CLERK_SYNC_ENCRYPTION_KEY: encryptionKey,
      PORT: String(apiPort),
      TEMPORAL_ADDRESS: server?.address ?? baseEnv.TEMPORAL_ADDRESS,
    });

    const localUiOrigins = server
      ? [`http://localhost:${opts.uiPort}`, `http://127.0.0.1:${opts.uiPort}`]
      : undefined;
    // As `clerk-sync worker` does: a TEMPORAL_ADDRESS of the user's own may not have them yet.
    await registerSearchAttributes(config, logger);
    const api = await startApi(config, logger, { localUiOrigins });
    stops.push(() => api.close());
    const connection = await NativeConnection.connect(connectionOptions(config.temporal));
    stops.push(() => connection.close());
    const workers = await createWorkers({ config, connection, clients: createClients(config, logger) });

    const out = [
      '',
      'clerk-sync is running (Ctrl-C stops everything)',
      `  API:            ${api.url}  (POST /webhooks/clerk, GET /healthz /readyz /metrics)`,
      `  Temporal:       ${config.temporal.address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`,
      server?.uiUrl
        ? `  Temporal UI:    ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows`
        : undefined,
      server && codecEndpoint
        ? `  Codec server:   ${codecEndpoint}  (the UI decrypts payloads through it)`
        : undefined,
      sandbox ? `  Sandbox:        ${sandbox.url}  (Salesforce, Clerk, Resend and Slack records)` : undefined,
      ...lines.map((l) => `  ${l}`),
      '',
      'Send a signed sample event from another terminal:',
      '  npm run send-sample              (a sign-up that joins an organization; or: npm run send-sample -- leave-org)',
      '',
    ].filter((l): l is string => l !== undefined);
    process.stdout.write(`${out.join('\n')}\n`);

    const running = runWorkers(workers); // resolves after Ctrl-C: the SDK runtime shuts workers down on SIGINT/SIGTERM
    // Issue 14: `clerk-sync doctor` once, with this configuration, once the workers poll; it never throws.
    void startupDoctor(config, (line) => process.stdout.write(`${line}\n`));
    await running;
  } finally {
    await stopAll();
  }
}
