import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Connection } from 'jsforce';
import {
  createSalesforceService,
  SERVER_MAX_HEADER_SIZE,
  type SalesforceSandboxOptions,
  type SalesforceService,
} from '../src/salesforce';
import type { SandboxEnv } from '../src/server';

/** The API version the tests pin (46.0+ for upsert's `created`). */
export const API_VERSION = '62.0';
export const CLIENT_ID = 'clerk-sync-sandbox';
export const CLIENT_SECRET = 'sandbox-secret';

/** One Salesforce stand-in served on a free port, mounted under `/salesforce` as the sandbox framework does. */
export interface SalesforceHarness {
  service: SalesforceService;
  /** `http://127.0.0.1:<port>/salesforce`: both jsforce's loginUrl and the instance URL. */
  loginUrl: string;
  /** A jsforce Connection authorized with client credentials, with a refreshFn that re-runs them. */
  connect(options?: { version?: string }): Promise<Connection>;
  close(): Promise<void>;
}

/** Serves the stand-in on port 0 behind a prefix-stripping mount. */
export async function startSalesforce(options: SalesforceSandboxOptions = {}): Promise<SalesforceHarness> {
  const service = createSalesforceService(options);
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path !== '/salesforce' && !ctx.path.startsWith('/salesforce/')) {
      await next();
      return;
    }
    ctx.path = ctx.path.slice('/salesforce'.length) || '/';
    await service.middleware(ctx, next);
  });
  // As the sandbox's server: an over-long URL must reach the service (414), not stop at Node's 16 KiB (431).
  const handle = app.callback();
  const server: Server = createServer({ maxHeaderSize: SERVER_MAX_HEADER_SIZE }, (req, res) => {
    void handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const loginUrl = `http://127.0.0.1:${port}/salesforce`;
  return {
    service,
    loginUrl,
    connect: async ({ version = API_VERSION } = {}) => {
      const conn = new Connection({
        oauth2: { loginUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
        version,
        refreshFn: clientCredentialsRefresh,
      });
      await conn.authorize({ grant_type: 'client_credentials' });
      return conn;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** What `useSalesforce` gives each test: the file's stand-in, and a connection to it made after its reset. */
export interface SalesforceTestContext {
  readonly sf: SalesforceHarness;
  readonly conn: Connection;
  /** Resets the stand-in and connects anew, as before each test. */
  reset(): Promise<void>;
}

/**
 * Registers the jest hooks that most Salesforce test files share: one stand-in per file (started before its tests,
 * closed after them), reset and connected to anew before each test. A file's own `beforeEach` runs after these.
 */
export function useSalesforce(options: SalesforceSandboxOptions = {}): SalesforceTestContext {
  let sf: SalesforceHarness | undefined;
  let conn: Connection | undefined;
  beforeAll(async () => {
    sf = await startSalesforce(options);
  });
  afterAll(() => sf?.close());
  const reset = async () => {
    sf!.service.reset();
    conn = await sf!.connect();
  };
  beforeEach(reset);
  return {
    get sf() {
      return sf!;
    },
    get conn() {
      return conn!;
    },
    reset,
  };
}

/** A jsforce Connection to a whole sandbox's Salesforce (`createSandbox`), authorized with its client credentials. */
export async function connectSandboxSalesforce(
  env: Pick<SandboxEnv, 'SALESFORCE_LOGIN_URL' | 'SALESFORCE_CLIENT_ID' | 'SALESFORCE_CLIENT_SECRET'>,
): Promise<Connection> {
  const conn = new Connection({
    oauth2: {
      loginUrl: env.SALESFORCE_LOGIN_URL,
      clientId: env.SALESFORCE_CLIENT_ID,
      clientSecret: env.SALESFORCE_CLIENT_SECRET,
    },
    loginUrl: env.SALESFORCE_LOGIN_URL,
    version: API_VERSION,
  });
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

/**
 * jsforce's default refresh needs a refresh token, which client credentials never grant (reference §1):
 * re-run the client-credentials flow instead. `authorize` establishes the new session itself.
 */
export function clientCredentialsRefresh(
  conn: Connection,
  callback: (err: Error | null, accessToken?: string) => void,
): void {
  conn
    .authorize({ grant_type: 'client_credentials' })
    .then(() => callback(null, conn.accessToken ?? undefined))
    .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
}

/** The rejection of a promise, for asserting on jsforce's errors (`errorCode`, `name`, `data`). */
export async function rejectionOf(
  promise: PromiseLike<unknown>,
): Promise<Error & { errorCode?: string; data?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { errorCode?: string; data?: unknown };
  }
  throw new Error('expected the call to fail');
}
