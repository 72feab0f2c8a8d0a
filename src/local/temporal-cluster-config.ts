import { createServer } from 'node:net';
import { join } from 'node:path';

// The production layout's settings: its loopback ports and the Temporal server's configuration, based on the
// module's config/development-postgres12.yaml (see ./temporal-cluster.ts).

/** The SQL plugin of PostgreSQL 12 and later. */
export const SQL_PLUGIN = 'postgres12';
/** Databases of the default store and of visibility, as in the module's `config/development-postgres12.yaml`. */
export const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;
export const DB_USER = 'temporal';
export const DB_PASSWORD = 'temporal';
/**
 * PostgreSQL stores the services' membership ports as SMALLINT, so every port of the server stays ≤ 32767; below
 * Linux's ephemeral range (32768 and up), no outgoing connection takes one of them between runs either.
 */
export const PORT_RANGE = { low: 20_000, high: 32_767 } as const;

/** A TCP port ≤ 32767 free on loopback a moment ago (see PORT_RANGE). */
export async function freeLowPort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low + 1));
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${PORT_RANGE.low} and ${PORT_RANGE.high}`);
}

export interface Ports {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

export async function allocatePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const next = async () => {
    const port = await freeLowPort(taken);
    taken.add(port);
    return port;
  };
  return {
    postgres: await next(),
    frontend: await next(),
    frontendHttp: await next(),
    frontendMembership: await next(),
    history: await next(),
    historyMembership: await next(),
    matching: await next(),
    matchingMembership: await next(),
    worker: await next(),
    workerMembership: await next(),
  };
}

/** The server configuration: the module's `config/development-postgres12.yaml` with this cluster's ports. */
export function serverConfig(ports: Ports, dir: string): object {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: SQL_PLUGIN,
      databaseName,
      connectAddr: `127.0.0.1:${ports.postgres}`,
      connectProtocol: 'tcp',
      user: DB_USER,
      password: DB_PASSWORD,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: object = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': datastore(DATABASES.temporal, 20),
        'postgres-visibility': datastore(DATABASES.visibility, 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: rpc(ports.frontend, ports.frontendMembership, { httpPort: ports.frontendHttp }),
      history: rpc(ports.history, ports.historyMembership),
      matching: rpc(ports.matching, ports.matchingMembership),
      worker: rpc(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: join(dir, 'dynamicconfig.yaml'), pollInterval: '10s' },
  };
}

/** The module's `config/dynamicconfig/development-sql.yaml`, the settings that matter here. */
export const DYNAMIC_CONFIG = `limit.maxIDLength:
  - value: 255
    constraints: {}
`;
