import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { createEmailActivities, createNoticeActivities, createSyncActivities } from './activities';
import { createClients, type Clients } from './clients';
import { dataConverter } from './codec';
import { requireFor, type Config } from './config';
import { logSdkEntry, type Logger } from './logger';
import { EMAIL_RATE, emailTaskQueue, noticesTaskQueue } from './shared/task-queues';
import { connectionOptions, registerSearchAttributes } from './temporal';
import { bundleOptions, prebuiltBundle } from './workflow-bundle';

/**
 * Routes the Temporal SDK's logs (worker, workflow `log`, activity `log`) into pino; call once per process. With
 * `metrics.prometheus`, the SDK also serves its metrics (the worker's own, and `clerk_sync_credential_rejections`:
 * activities/credential-alerts.ts) in Prometheus text format on that address (`host:port`, path `/metrics`);
 * without it they are not recorded.
 */
export function installRuntimeLogger(logger: Logger, metrics: { prometheus?: string } = {}): void {
  Runtime.install({
    logger: new DefaultLogger(logger.isLevelEnabled('debug') ? 'DEBUG' : 'INFO', (entry) =>
      logSdkEntry(logger, entry),
    ),
    ...(metrics.prometheus && {
      telemetryOptions: { metrics: { prometheus: { bindAddress: metrics.prometheus } } },
    }),
  });
}

/** What the workers need besides a Temporal connection. */
export interface WorkerDeps {
  config: Config;
  connection: NativeConnection;
  clients: Clients;
  /**
   * A bundle built by the caller (tests, benchmarks) with `bundleOptions()` (src/workflow-bundle.ts); otherwise the
   * one `npm run build` wrote, or, failing that, the workflows are bundled at start-up.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  logger?: Logger;
}

/** The worker's workflow code: the given bundle, the prebuilt one, or bundling now with the same options. */
async function workflowCode(
  encrypted: boolean,
  given: WorkerOptions['workflowBundle'],
  logger: Logger | undefined,
): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  if (given) return given;
  const prebuilt = prebuiltBundle(encrypted);
  if ('codePath' in prebuilt) return prebuilt;
  logger?.info({ reason: prebuilt.missing }, 'bundling workflows at start-up (npm run build prebuilds them)');
  return bundleWorkflowCode(bundleOptions(encrypted)); // once, for both workflow workers
}

/**
 * The three workers of one process: the syncs (workflows, Salesforce and Clerk activities) on the main task queue;
 * the welcome email on a queue of its own, rate-limited by the server across all workers; and the Slack notifier
 * (its workflow and messages) on a queue of its own, so that its tasks never wait behind a burst of syncs.
 */
export async function createWorkers({
  config,
  connection,
  clients,
  workflowBundle,
  logger,
}: WorkerDeps): Promise<Worker[]> {
  const { namespace, taskQueue } = config.temporal;
  const email = config.email ? { from: config.email.from, subject: config.email.subject } : undefined;
  // Issue 12: with keys, a workflow whose input Temporal holds in clear did not come through the API: refuse it.
  const converter = dataConverter(config.encryptionKeys, {
    plaintext: config.allowPlaintextInputs ? 'pass' : 'refuse',
  });
  const code = await workflowCode(config.encryptionKeys.length > 0, workflowBundle, logger);
  return Promise.all([
    Worker.create({
      connection,
      namespace,
      taskQueue,
      dataConverter: converter,
      workflowBundle: code,
      activities: createSyncActivities(clients),
      // Large deletions and backfill pages heartbeat their progress after every Salesforce call: send it at least
      // every few seconds, so an attempt after a crash resumes from recent counts (the SDK's default waits ~24 s).
      maxHeartbeatThrottleInterval: '5s',
    }),
    Worker.create({
      connection,
      namespace,
      taskQueue: emailTaskQueue(taskQueue),
      dataConverter: converter,
      activities: createEmailActivities(clients, email),
      maxTaskQueueActivitiesPerSecond: EMAIL_RATE,
    }),
    Worker.create({
      connection,
      namespace,
      taskQueue: noticesTaskQueue(taskQueue),
      dataConverter: converter,
      workflowBundle: code,
      activities: createNoticeActivities(clients),
    }),
  ]);
}

/** Runs workers together until shutdown (SIGINT/SIGTERM); if one fails, the others are shut down too. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const runs = workers.map((w) =>
    w.run().catch((err: unknown) => {
      for (const other of workers) if (other !== w && other.getState() === 'RUNNING') other.shutdown();
      throw err;
    }),
  );
  await Promise.all(runs);
}

/** `clerk-sync worker`: registers search attributes, then polls until SIGINT/SIGTERM. */
export async function runWorker(config: Config, logger: Logger): Promise<void> {
  requireFor(config, 'worker');
  installRuntimeLogger(logger, { prometheus: config.workerMetricsAddress });
  await registerSearchAttributes(config, logger);
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  try {
    const workers = await createWorkers({
      config,
      connection,
      clients: createClients(config, logger),
      logger,
    });
    logger.info(
      {
        taskQueue: config.temporal.taskQueue,
        temporal: config.temporal.address,
        encryptionKeyId: config.encryptionKeys[0]?.id ?? 'off',
        ...(config.encryptionKeys.length > 0 && {
          plaintextInputs: config.allowPlaintextInputs
            ? 'allowed (CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS)'
            : 'refused',
        }),
      },
      'worker polling',
    );
    await runWorkers(workers); // the SDK runtime shuts workers down gracefully on SIGINT/SIGTERM
  } finally {
    await connection.close();
  }
}
