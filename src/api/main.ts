import { createServer, type Server } from 'node:http';
import { Client } from '@temporalio/client';
import { requireFor, type Config } from '../config';
import type { Logger } from '../logger';
import { createStarter } from '../starter';
import { lazyConnection } from '../temporal';
import { createApp } from './app';
import { createMetrics } from './metrics';

/** A running API: its address and a clean stop. */
export interface RunningApi {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts the HTTP API on `config.port` (0: a free port) against `config.temporal`. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  requireFor(config, 'api');
  const connection = lazyConnection(config.temporal);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({
    signingSecrets: config.signingSecrets,
    starter: createStarter({ client, taskQueue: config.temporal.taskQueue }),
    connection,
    logger,
    metrics: createMetrics(),
    operatorApiKey: config.operatorApiKey,
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
