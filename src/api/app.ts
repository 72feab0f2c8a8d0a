import Router from '@koa/router';
import type { Connection } from '@temporalio/client';
import Koa from 'koa';
import type { Logger } from '../logger';
import type { Starter } from '../starter';
import { errorHandler } from './errors';
import { healthRoutes } from './health';
import { operatorRoutes } from './operator';
import type { Metrics } from './metrics';
import { webhookRoutes } from './webhook';

/** What the HTTP API needs; entry points and tests build it. */
export interface AppDeps {
  readonly signingSecrets: readonly string[];
  readonly starter: Starter;
  readonly connection: Connection;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** CLERK_SYNC_API_KEY: the operator API (`/api/*`) exists only with it. */
  readonly operatorApiKey?: string;
}

/** The Koa app with every route; it does not listen (tests serve `app.callback()` on port 0). */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  const router = new Router();
  webhookRoutes(router, deps);
  healthRoutes(router, deps);
  operatorRoutes(router, { apiKey: deps.operatorApiKey, starter: deps.starter, logger: deps.logger });

  app.use(errorHandler(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
