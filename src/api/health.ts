import type Router from '@koa/router';
import type { Connection } from '@temporalio/client';
import type { Logger } from '../logger';
import { GRPC_NOT_FOUND, grpcCode, searchAttributesUsable } from '../temporal';
import type { Metrics } from './metrics';

/**
 * `/healthz` (process up), `/readyz` (200 only when a delivery would be accepted now: Temporal answers within 2 s
 * and the search attributes the API sets are usable in the namespace), `/metrics` (Prometheus text).
 */
export function healthRoutes(
  router: Router,
  {
    connection,
    namespace,
    metrics,
    logger,
  }: { connection: Connection; namespace: string; metrics: Metrics; logger: Logger },
): void {
  // Once usable, search attributes stay usable: later probes only check that Temporal answers.
  let attributesUsable = false;

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const deadline = Date.now() + 2_000;
    try {
      await connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}));
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', temporal: 'unreachable' };
      return;
    }
    if (attributesUsable) {
      ctx.body = { status: 'ready', temporal: 'reachable' };
      return;
    }
    try {
      const probe = await connection.withDeadline(deadline, () =>
        searchAttributesUsable(connection, namespace),
      );
      if (probe.state === 'usable') {
        attributesUsable = true;
        ctx.body = { status: 'ready', temporal: 'reachable' };
        return;
      }
      // The worker (or `clerk-sync temporal-setup`) registers them; the frontend sees them seconds later.
      ctx.status = 503;
      ctx.body = {
        status: 'not_ready',
        temporal: 'reachable',
        namespace,
        missingSearchAttributes: probe.missing,
      };
    } catch (err) {
      ctx.status = 503;
      if (grpcCode(err) === GRPC_NOT_FOUND) {
        ctx.body = { status: 'not_ready', temporal: 'reachable', namespace, error: 'namespace not found' };
      } else {
        logger.debug({ err }, 'readiness probe failed');
        ctx.body = { status: 'not_ready', temporal: 'unreachable' };
      }
    }
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
