import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from '../logger';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { findTemporalCli } from './temporal-cli';

/** A Temporal CLI dev server this process started, with SPEC.md's search attributes registered. */
export interface DevServer {
  /** gRPC address, e.g. `127.0.0.1:7233`. */
  readonly address: string;
  readonly uiUrl?: string;
  readonly env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/** Options of `startDevServer`; no port means a free one, no `dbFilename` means state in memory. */
export interface DevServerOptions {
  port?: number;
  uiPort?: number;
  dbFilename?: string;
  /** Wires the Web UI to a codec server (`--ui-codec-endpoint`). */
  codecEndpoint?: string;
  logger?: Logger;
}

/** Starts `temporal server start-dev` (found or installed by `findTemporalCli`) and waits until it answers. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const path = findTemporalCli({ logger: options.logger });
  const extraArgs = options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : [];
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: path ? { type: 'existing-path', path } : { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      dbFilename: options.dbFilename,
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs,
      log: { format: 'pretty', level: 'error' },
    },
  });
  return {
    address: env.address,
    uiUrl: options.uiPort !== undefined ? `http://localhost:${options.uiPort}` : undefined,
    env,
    stop: () => env.teardown(),
  };
}
