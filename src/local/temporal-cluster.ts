import Long from 'long';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import pino from 'pino';
import type { Logger } from '../logger';
import { ensureSearchAttributes, GRPC_NOT_FOUND, grpcCode, searchAttributesUsable } from '../temporal';
import {
  SQL_PLUGIN,
  DATABASES,
  DB_USER,
  DB_PASSWORD,
  allocatePorts,
  serverConfig,
  DYNAMIC_CONFIG,
} from './temporal-cluster-config';
import { findPostgres, postgresFor, postgresUser } from './postgres-provision';
import { findTemporalServer } from './temporal-cluster-provision';

// The production layout of Temporal, without containers: the Temporal server (every service in one process) on a
// PostgreSQL cluster of its own, both on loopback ports, state in a temporary directory; provisioned by
// ./temporal-cluster-provision.ts. `docker-compose.yml` describes the same layout with images; the tests run this
// one (CLERK_SYNC_TEST_TEMPORAL=cluster, test/cluster/).

export { TEMPORAL_SERVER_VERSION } from './temporal-cluster-provision';
export { POSTGRES_VERSION } from './postgres-provision';
export { freeLowPort } from './temporal-cluster-config';

/** Options of `startTemporalCluster`. */
export interface ClusterOptions {
  /** Namespace created at start (default `default`). */
  namespace?: string;
  /** Register SPEC.md's search attributes and wait until they are usable (default true), as the dev server does. */
  searchAttributes?: boolean;
  /** Where the state and logs go (default: a new temporary directory, removed by `stop()`). */
  dir?: string;
  logger?: Logger;
}

/** A Temporal server on PostgreSQL that this process started; each part can be stopped, killed and started again. */
export interface TemporalCluster {
  /** gRPC address of the frontend, e.g. `127.0.0.1:27233`. */
  readonly address: string;
  readonly namespace: string;
  /** State (`pgdata/`), configuration and logs (`postgres.log`, `temporal.log`). */
  readonly dir: string;
  readonly postgresPort: number;
  /** Versions, for reports: the server release and PostgreSQL's version line. */
  readonly versions: { readonly temporal: string; readonly postgres: string };
  /** Process ids of the Temporal server and of PostgreSQL's postmaster now (new ones after a restart), for reports. */
  pids(): { server?: number; postgres?: number };
  /** Stops the Temporal server (SIGTERM, then SIGKILL after 10 s); PostgreSQL stays up. */
  stopServer(): Promise<void>;
  /** Starts the Temporal server again on the same ports and database; resolves when it serves the namespace. */
  startServer(): Promise<void>;
  /** A crash of the database host: SIGKILL to PostgreSQL and every backend (its process group). */
  killPostgres(): Promise<void>;
  /** Starts PostgreSQL again on the same data directory (it recovers from its WAL). */
  startPostgres(): Promise<void>;
  /** Stops everything and removes the directory (unless `dir` was given). */
  stop(): Promise<void>;
}

/**
 * A child process whose output is appended to a log file. `ready` resolves when a line matches `readyText`;
 * `exited` rejects when the process exits (an error naming the log), whenever that is.
 */
function startLogged(
  command: string,
  args: string[],
  logFile: string,
  options: { cwd: string; uid?: number; gid?: number; readyText?: RegExp },
): { child: ChildProcess; ready: Promise<void>; exited: Promise<never> } {
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, {
    // Its own process group: `killPostgres` takes the backends with the postmaster, as a host crash would.
    detached: true,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    env: { PATH: process.env.PATH ?? '', LANG: 'C', LC_ALL: 'C' },
  });
  let tail = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const onData = (chunk: Buffer) => {
    writeFileSync(out, chunk);
    tail = (tail + chunk.toString()).slice(-4000);
    if (options.readyText?.test(tail)) onReady();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`${command} exited (${code ?? signal}); see ${logFile}:\n${tail.slice(-1500)}`)),
    );
  });
  exited.catch(() => undefined);
  child.once('close', () => closeSync(out));
  const readyOrExited = Promise.race([ready, exited]);
  readyOrExited.catch(() => undefined); // awaited by the caller that waits for it; never unhandled
  return { child, ready: readyOrExited, exited };
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

function run(command: string, args: string[], options: { uid?: number; gid?: number } = {}): void {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    env: { PATH: process.env.PATH ?? '', LANG: 'C', LC_ALL: 'C' },
    timeout: 300_000,
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n` +
        `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n'),
    );
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  attempt: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Children still running when this process exits: never leave a database or server behind. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of running) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

/**
 * Starts the production layout: PostgreSQL (initdb in a temporary directory, loopback port, as the `postgres` OS
 * user when run as root), the Temporal server's schemas set up with temporal-sql-tool, the Temporal server with
 * every service in one process, the namespace registered, and (by default) SPEC.md's search attributes registered
 * and usable. Provisions the server (Go build, minutes, once) and PostgreSQL (a download, seconds, once) when they
 * are missing.
 */
export async function startTemporalCluster(options: ClusterOptions = {}): Promise<TemporalCluster> {
  const files = findTemporalServer({ logger: options.logger });
  if (!files) throw new Error('the Temporal server is not built');
  const user = postgresUser();
  const found = await findPostgres({ logger: options.logger });
  const pg = user ? postgresFor(found, user) : found;
  const namespace = options.namespace ?? 'default';
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'clerk-sync-cluster-'));
  mkdirSync(dir, { recursive: true });
  const pgData = join(dir, 'pgdata');
  const socketDir = join(dir, 'sock');
  mkdirSync(socketDir, { recursive: true });
  if (user) for (const d of [dir, socketDir]) chownSync(d, user.uid, user.gid);
  const ports = await allocatePorts();
  const address = `127.0.0.1:${ports.frontend}`;

  // PostgreSQL: trust on loopback only (a throwaway cluster), the temporal role is its superuser.
  run(
    join(pg.binDir, 'initdb'),
    ['-D', pgData, '-U', DB_USER, '--auth=trust', '--encoding=UTF8', '--no-instructions'],
    user ?? {},
  );
  let postgres: ChildProcess | undefined;
  const startPostgres = async () => {
    const started = startLogged(
      join(pg.binDir, 'postgres'),
      ['-D', pgData, '-p', String(ports.postgres), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'],
      join(dir, 'postgres.log'),
      { ...user, cwd: dir, readyText: /database system is ready to accept connections/ },
    );
    postgres = started.child;
    track(started.child);
    await started.ready;
  };
  const killPostgres = async () => {
    const child = postgres;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    // The backends are in the group too; wait until none holds the data directory's shared memory.
    await waitFor('the PostgreSQL backends to exit', 10_000, () => {
      try {
        process.kill(-child.pid!, 0);
        return undefined;
      } catch {
        return true;
      }
    });
  };

  // The Temporal server's schemas, from the module's versioned SQL files.
  const sqlTool = (database: string, ...args: string[]) =>
    run(files.sqlTool, [
      '--plugin',
      SQL_PLUGIN,
      '--endpoint',
      '127.0.0.1',
      '--port',
      String(ports.postgres),
      '--user',
      DB_USER,
      '--password',
      DB_PASSWORD,
      '--database',
      database,
      ...args,
    ]);

  let server: ChildProcess | undefined;
  const configFile = join(dir, 'temporal.yaml');
  const startServer = async () => {
    const started = startLogged(
      files.server,
      ['--config-file', configFile, '--allow-no-auth', 'start'],
      join(dir, 'temporal.log'),
      { cwd: dir },
    );
    server = started.child;
    track(started.child);
    await Promise.race([started.exited, serving(address, namespace, 120_000)]);
  };
  const stopServer = () => stopChild(server);
  const stop = async () => {
    await stopServer();
    await stopChild(postgres, 'SIGINT'); // fast shutdown
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await startPostgres();
    for (const [database, schema] of [
      [DATABASES.temporal, 'temporal'],
      [DATABASES.visibility, 'visibility'],
    ] as const) {
      sqlTool(database, 'create-database');
      sqlTool(database, 'setup-schema', '--version', '0.0');
      sqlTool(database, 'update-schema', '--schema-dir', join(files.schemaDir, schema, 'versioned'));
    }
    writeFileSync(join(dir, 'dynamicconfig.yaml'), DYNAMIC_CONFIG);
    // JSON is YAML: the server's loader reads it as it reads the module's YAML files.
    writeFileSync(configFile, `${JSON.stringify(serverConfig(ports, dir), null, 2)}\n`);
    await startServer();
    if (options.searchAttributes !== false)
      await registerAndAwaitSearchAttributes(address, namespace, options.logger);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return {
    address,
    namespace,
    dir,
    postgresPort: ports.postgres,
    versions: { temporal: files.version, postgres: pg.version },
    pids: () => ({ server: server?.pid, postgres: postgres?.pid }),
    stopServer,
    startServer,
    killPostgres,
    startPostgres,
    stop,
  };
}

/** Waits until the frontend answers and serves `namespace` (registering it, 1-day retention, when absent). */
async function serving(address: string, namespace: string, timeoutMs: number): Promise<void> {
  const connection = await waitFor('the Temporal frontend', timeoutMs, async () => {
    const c = await Connection.connect({ address, connectTimeout: 2_000 });
    try {
      await c.withDeadline(Date.now() + 2_000, () => c.workflowService.getSystemInfo({}));
      return c;
    } catch (err) {
      await c.close();
      throw err;
    }
  });
  try {
    await waitFor(`namespace ${namespace}`, timeoutMs, async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace });
      } catch (err) {
        if (grpcCode(err) !== GRPC_NOT_FOUND) throw err;
        await connection.workflowService.registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(24 * 60 * 60) }, // one day
        });
      }
      // A new namespace reaches the frontend's namespace cache seconds after it is stored.
      await connection.workflowService.countWorkflowExecutions({ namespace });
      return true;
    });
  } finally {
    await connection.close();
  }
}

/** Registers SPEC.md's search attributes (as the worker does) and waits until a start may set them. */
export async function registerAndAwaitSearchAttributes(
  address: string,
  namespace: string,
  logger: Logger = pino({ level: 'silent' }),
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await ensureSearchAttributes(connection, namespace, logger);
    await waitFor('the search attributes to be usable', 30_000, async () =>
      (await searchAttributesUsable(connection, namespace)).state === 'usable' ? true : undefined,
    );
  } finally {
    await connection.close();
  }
}
