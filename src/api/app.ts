import Router from '@koa/router';
import type { Connection } from '@temporalio/client';
import Koa from 'koa';
import type { Logger } from '../logger';
import type { Starter } from '../starter';
import { errorHandler } from './errors';
import { healthRoutes } from './health';
import type { Metrics } from './metrics';
import { webhookRoutes } from './webhook';

/** What the HTTP API needs; entry points and tests build it. */
export interface AppDeps {
  readonly signingSecrets: readonly string[];
  readonly starter: Starter;
  readonly connection: Connection;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The Koa app with every route; it does not listen (tests serve `app.callback()` on port 0). */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  const router = new Router();
  webhookRoutes(router, deps);
  healthRoutes(router, deps);

  app.use(errorHandler(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
