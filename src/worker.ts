import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { requireFor, type Config } from './config';
import type { Logger } from './logger';
import { connectionOptions, ensureSearchAttributes } from './temporal';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Routes the Temporal SDK's logs (worker, workflow `log`, activity `log`) into pino; call once per process. */
export function installRuntimeLogger(logger: Logger): void {
  Runtime.install({
    logger: new DefaultLogger(logger.isLevelEnabled('debug') ? 'DEBUG' : 'INFO', ({ level, message, meta }) => {
      logger[LEVELS[level]]({ ...meta }, message);
    }),
  });
}

/** Where the worker finds its workflows: compiled JS in production, TypeScript sources in tests. */
export const WORKFLOWS_PATH = require.resolve('./workflows');

/** Builds (does not run) the sync worker on the configured task queue. */
export async function createWorker(options: {
  config: Config;
  connection: NativeConnection;
  activities?: object;
  workflowBundle?: WorkerOptions['workflowBundle'];
}): Promise<Worker> {
  const { config, connection } = options;
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: options.activities ?? {},
  });
}

/** `clerk-sync worker`: registers search attributes, then polls until SIGINT/SIGTERM. */
export async function runWorker(config: Config, logger: Logger): Promise<void> {
  requireFor(config, 'worker');
  installRuntimeLogger(logger);
  const client = await Connection.connect(connectionOptions(config.temporal));
  try {
    await ensureSearchAttributes(client, config.temporal.namespace, logger);
  } finally {
    await client.close();
  }
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  try {
    const worker = await createWorker({ config, connection });
    logger.info({ taskQueue: config.temporal.taskQueue, temporal: config.temporal.address }, 'worker polling');
    await worker.run(); // the SDK shuts down gracefully on SIGINT/SIGTERM
  } finally {
    await connection.close();
  }
}
