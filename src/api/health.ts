import type Router from '@koa/router';
import type { Connection } from '@temporalio/client';
import type { Metrics } from './metrics';

/** `/healthz` (process up), `/readyz` (Temporal answers within 2 s), `/metrics` (Prometheus text). */
export function healthRoutes(
  router: Router,
  { connection, metrics }: { connection: Connection; metrics: Metrics },
): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    try {
      await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
      ctx.body = { status: 'ready', temporal: 'reachable' };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', temporal: 'unreachable' };
    }
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
