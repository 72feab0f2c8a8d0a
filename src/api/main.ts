import { createServer, type Server } from 'node:http';
import { requireFor, type Config } from '../config';
import type { Logger } from '../logger';
import { createStarter } from '../starter';
import { connectTemporal } from '../temporal';
import { createApp } from './app';
import { CODEC_PATH } from './codec-server';
import { createMetrics } from './metrics';

/** A running API: its address and a clean stop. */
export interface RunningApi {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * Starts the HTTP API on `config.port` (0: a free port) against `config.temporal`. `localUiOrigins` (local mode
 * only) lets the local Web UI use the codec server without the bearer key.
 */
export async function startApi(
  config: Config,
  logger: Logger,
  options: { localUiOrigins?: readonly string[] } = {},
): Promise<RunningApi> {
  requireFor(config, 'api');
  const { client, connection } = await connectTemporal(config, { lazy: true });
  const app = createApp({
    signingSecrets: config.signingSecrets,
    starter: createStarter({ client, taskQueue: config.temporal.taskQueue }),
    connection,
    logger,
    metrics: createMetrics(),
    operatorApiKey: config.operatorApiKey,
    codec: {
      keys: config.encryptionKeys,
      namespace: config.temporal.namespace,
      origins: config.codecOrigins,
      localUiOrigins: options.localUiOrigins,
    },
  });
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  // Svix waits 15 s; no request should hold a socket much longer than that.
  server.requestTimeout = 20_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;
  logger.info(
    { url, temporal: config.temporal.address, taskQueue: config.temporal.taskQueue },
    'API listening',
  );
  const keyId = config.encryptionKeys[0]?.id;
  if (!keyId) logger.info('CLERK_SYNC_ENCRYPTION_KEY not set: payloads are stored in Temporal in clear');
  else if (!config.operatorApiKey && !options.localUiOrigins)
    logger.warn({ keyId }, 'payloads encrypted; no codec server for the Web UI without CLERK_SYNC_API_KEY');
  else
    logger.info(
      { keyId, codecServer: `${url}${CODEC_PATH}`, browserOrigins: config.codecOrigins },
      'payloads encrypted; codec server on',
    );
  return {
    url,
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await connection.close();
    },
  };
}
