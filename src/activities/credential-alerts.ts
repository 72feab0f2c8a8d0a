import { Context } from '@temporalio/activity';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import type { CredentialRejection } from './errors';

// What an operator sees when a service refuses a credential (activities/errors.ts decides which failures those are):
// a sync keeps retrying every minute until the configuration is fixed, so one line per attempt would drown the log
// and one line ever would be missed. The worker logs one error line per cause and minute, and counts every refusal.

/** One log line per failure type and cause within this time. */
export const CREDENTIAL_LOG_INTERVAL_MS = 60_000;

/**
 * The counter of refused credentials, on the worker's Temporal SDK meter (labels `service`, `cause`, plus the SDK's
 * `namespace`, `taskQueue`, `activityType`): exported with the SDK's own worker metrics when the worker's runtime
 * has a metrics exporter (src/worker.ts `installRuntimeLogger`).
 */
export const CREDENTIAL_REJECTIONS_METRIC = 'clerk_sync_credential_rejections';

/** Where a report goes: the activity's logger (the worker's, with the activity's ids) and meter. */
export interface CredentialAlertSink {
  log: { error(message: string, meta?: Record<string, unknown>): void };
  meter: MetricMeter;
}

/** The running activity's logger and meter; outside an activity (unit tests calling activities), nothing. */
function activitySink(): CredentialAlertSink {
  try {
    const context = Context.current();
    return { log: context.log, meter: context.metricMeter };
  } catch {
    return { log: { error: () => undefined }, meter: noopMetricMeter };
  }
}

/** The reporter: `now` and the sink are parameters for tests. */
export function createCredentialAlerts(now: () => number = Date.now) {
  /** Per `type/cause`: when its last line was written and how many refusals were not logged since. */
  const lines = new Map<string, { at: number; unlogged: number }>();
  return {
    report(rejection: CredentialRejection, sink: CredentialAlertSink = activitySink()): void {
      const { type, service, cause, message } = rejection;
      sink.meter
        .createCounter(
          CREDENTIAL_REJECTIONS_METRIC,
          'failures',
          'Activity attempts that failed on a refused credential',
        )
        .add(1, { service, cause });
      const key = `${type}/${cause}`;
      const last = lines.get(key);
      const at = now();
      if (last && at - last.at < CREDENTIAL_LOG_INTERVAL_MS) {
        last.unlogged += 1;
        return;
      }
      lines.set(key, { at, unlogged: 0 });
      sink.log.error(`${type}: ${message}; retried every minute until the configuration is fixed`, {
        credentialRejected: type,
        service,
        cause,
        // Refusals of this cause since the previous line (within the minute before it), not logged one by one.
        unloggedSinceLastLine: last?.unlogged ?? 0,
      });
    },
  };
}

/** The worker's reporter (one per process: each worker process logs its own line per minute). */
export const credentialAlerts = createCredentialAlerts();
