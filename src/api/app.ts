import Router from '@koa/router';
import type { Connection } from '@temporalio/client';
import Koa from 'koa';
import type { EncryptionKey } from '../codec';
import type { Logger } from '../logger';
import type { Starter } from '../starter';
import { codecRoutes } from './codec-server';
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
  /** CLERK_SYNC_ENCRYPTION_KEY: the codec server for the Web UI (`/codec/*`) exists only with keys. */
  readonly codec?: {
    readonly keys: readonly EncryptionKey[];
    readonly namespace: string;
    /** CLERK_SYNC_CODEC_ORIGINS: the browser origins that may call it. */
    readonly origins?: readonly string[];
    readonly localUiOrigins?: readonly string[];
  };
}

/** The Koa app with every route; it does not listen (tests serve `app.callback()` on port 0). */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  const router = new Router();
  webhookRoutes(router, deps);
  healthRoutes(router, { ...deps, namespace: deps.starter.namespace });
  operatorRoutes(router, { apiKey: deps.operatorApiKey, starter: deps.starter, logger: deps.logger });
  if (deps.codec) codecRoutes(router, { ...deps.codec, apiKey: deps.operatorApiKey, logger: deps.logger });

  app.use(errorHandler(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
