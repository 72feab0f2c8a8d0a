import { Connection as TemporalConnection } from '@temporalio/client';
import type { Config } from '../../config';
import { SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import * as taskQueues from '../../shared/task-queues';
import { connectionOptions, temporalErrorMessage } from '../../temporal';
import type { CheckResult } from './report';
import { ok, fail, CHECK_TIMEOUT_MS, check, skipped } from './check';
import { pollerOutcome } from './workers';

// doctor: Temporal: reachable, namespace, search attributes, a worker polling each task queue.
/** The task queues the workers poll: the configured one and those src/shared/task-queues.ts derives from it. */
export function taskQueuesOf(main: string): string[] {
  const derived = Object.entries(taskQueues)
    .filter(([name, value]) => name.endsWith('TaskQueue') && typeof value === 'function')
    .map(([, value]) => (value as (queue: string) => string)(main));
  return [main, ...derived];
}

/** Reachable, namespace, search attributes, and a worker polling each task queue. */
export async function temporalChecks(config: Config): Promise<CheckResult[]> {
  const t = config.temporal;
  let connection: TemporalConnection | undefined;
  const results: CheckResult[] = [];
  try {
    results.push(
      await check('temporal.connection', 'Temporal', async () => {
        try {
          connection = await TemporalConnection.connect({ ...connectionOptions(t), connectTimeout: 5_000 });
        } catch (err) {
          return fail(
            `cannot reach ${t.address}: ${temporalErrorMessage(err)}`,
            'check TEMPORAL_ADDRESS (and TEMPORAL_TLS / TEMPORAL_API_KEY), and that the server runs',
          );
        }
        const info = await connection.workflowService.getSystemInfo({});
        return ok(`reachable at ${t.address}${info.serverVersion ? ` (server ${info.serverVersion})` : ''}`);
      }),
    );
    const conn = connection;
    const names = ['namespace', 'search attributes', ...taskQueuesOf(t.taskQueue).map((q) => `pollers ${q}`)];
    if (!conn) return [...results, ...names.map((n) => skippedTemporal(n))];
    const call = <T>(fn: () => Promise<T>) => conn.withDeadline(Date.now() + CHECK_TIMEOUT_MS - 500, fn);

    const namespace = await check('temporal.namespace', 'Temporal namespace', async () => {
      try {
        await call(() => conn.workflowService.describeNamespace({ namespace: t.namespace }));
      } catch (err) {
        return fail(
          `${t.namespace}: ${temporalErrorMessage(err)}`,
          `create it (temporal operator namespace create --namespace ${t.namespace}) or fix TEMPORAL_NAMESPACE`,
        );
      }
      return ok(t.namespace);
    });
    results.push(namespace);
    if (namespace.status === 'fail') return [...results, ...names.slice(1).map((n) => skippedTemporal(n))];

    const attributes = check('temporal.search-attributes', 'Search attributes', async () => {
      const listed = await call(() => conn.operatorService.listSearchAttributes({ namespace: t.namespace }));
      const present = { ...listed.customAttributes, ...listed.systemAttributes };
      const missing = SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(name in present));
      if (missing.length > 0) {
        return fail(
          `missing in ${t.namespace}: ${missing.join(', ')}`,
          'run `npx clerk-sync temporal-setup` (Temporal Cloud: tcld namespace search-attributes add, Keyword)',
        );
      }
      return ok(SEARCH_ATTRIBUTES.map((k) => k.name).join(', '));
    });
    const pollers = taskQueuesOf(t.taskQueue).map((queue) =>
      check(`temporal.pollers.${queue}`, `Worker on ${queue}`, () =>
        pollerOutcome(call, conn, t.namespace, queue),
      ),
    );
    results.push(...(await Promise.all([attributes, ...pollers])));
    return results;
  } finally {
    await connection?.close();
  }
}

const skippedTemporal = (name: string): CheckResult =>
  skipped(`temporal.${name.replace(/ /g, '-')}`, `Temporal ${name}`, 'needs Temporal reachable');
