import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../cli/usage-error';
import type { Logger } from '../logger';
import { cacheDir, executable, onPath } from './temporal-cli';

// Provisioning of the production layout (./temporal-cluster.ts) into the project's git-ignored cache, the way
// ./temporal-cli.ts provisions the CLI: the Temporal server and temporal-sql-tool built from the server's Go module
// with its PostgreSQL schema files. PostgreSQL itself comes from ./postgres-provision.ts.

/**
 * The Temporal server release the project builds (`go install go.temporal.io/server/cmd/server@…`): the one whose
 * `temporalio/server` and `temporalio/admin-tools` images docker-compose.yml runs (issue 18), so that what is deployed
 * is what the production-layout tests ran. v1.32.2 (2026-10-31) differs from it only by dependency and Go patch
 * bumps and quieter matching-service logs; move both together once its images are published.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';
/** The Go toolchain its go.mod asks for; the Go module proxy serves it, so any local Go 1.21+ builds it. */
export const TEMPORAL_SERVER_GO_TOOLCHAIN = 'go1.26.8';
/** The server module's schema directory for PostgreSQL 12 and later (plugin `postgres12`). */
const SCHEMA_SUBDIR = join('schema', 'postgresql', 'v12');

/** The Temporal server's files in the project cache. */
export interface TemporalServerFiles {
  readonly version: string;
  /** `temporal-server` */
  readonly server: string;
  /** `temporal-sql-tool` */
  readonly sqlTool: string;
  /** `schema/postgresql/v12` of the server module: `temporal/versioned`, `visibility/versioned`. */
  readonly schemaDir: string;
}

type Log = (msg: string) => void;

function logTo(logger?: Logger): Log {
  return (msg) => (logger ? logger.info(msg) : process.stderr.write(`${msg}\n`));
}

function serverFiles(root: string): TemporalServerFiles {
  return {
    version: TEMPORAL_SERVER_VERSION,
    server: join(root, 'bin', 'temporal-server'),
    sqlTool: join(root, 'bin', 'temporal-sql-tool'),
    schemaDir: join(root, SCHEMA_SUBDIR),
  };
}

function complete(files: TemporalServerFiles): boolean {
  return (
    executable(files.server) &&
    executable(files.sqlTool) &&
    existsSync(join(files.schemaDir, 'temporal', 'versioned')) &&
    existsSync(join(files.schemaDir, 'visibility', 'versioned'))
  );
}

/** Copies a directory tree as plain writable files (the Go module cache's are read-only). */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyTree(join(from, entry.name), join(to, entry.name));
    else writeFileSync(join(to, entry.name), readFileSync(join(from, entry.name)));
  }
}

/** `go install` of the server and temporal-sql-tool, then the schema files from the module source, into `root`. */
function buildTemporalServer(root: string, env: NodeJS.ProcessEnv, log: Log): void {
  if (!onPath('go', env))
    throw new UsageError(
      `the Temporal server ${TEMPORAL_SERVER_VERSION} is built with Go, and no \`go\` is on PATH: install Go ` +
        `(https://go.dev/dl/, 1.21 or later; it fetches ${TEMPORAL_SERVER_GO_TOOLCHAIN} itself)`,
    );
  const staging = `${root}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const gobin = join(staging, 'bin');
  mkdirSync(gobin, { recursive: true });
  const goEnv = { ...env, GOBIN: gobin, GOTOOLCHAIN: TEMPORAL_SERVER_GO_TOOLCHAIN, GOFLAGS: '' };
  const started = Date.now();
  log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool with go install ` +
      `(about 7 minutes on 2 cores; once) into ${root}`,
  );
  // Niced: a build of minutes on a machine that runs other things.
  const nice = onPath('nice', env);
  const go = (args: string[]) =>
    spawnSync(nice ?? 'go', nice ? ['-n', '10', 'go', ...args] : args, {
      cwd: staging,
      env: goEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 2_700_000,
    });
  const install = go([
    'install',
    `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`,
    `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
  ]);
  if (install.status !== 0)
    throw new Error(
      `go install of the Temporal server failed (${install.error?.message ?? `exit ${install.status}`}): ` +
        install.stderr.trim().split('\n').slice(-5).join('\n'),
    );
  renameSync(join(gobin, 'server'), join(gobin, 'temporal-server'));
  renameSync(join(gobin, 'sql'), join(gobin, 'temporal-sql-tool'));
  // The schema is not part of the binaries: take it from the module source that go just downloaded.
  const download = go(['mod', 'download', '-json', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`]);
  const moduleDir = download.status === 0 ? (JSON.parse(download.stdout) as { Dir?: string }).Dir : undefined;
  if (!moduleDir) throw new Error(`go mod download of the Temporal server failed: ${download.stderr.trim()}`);
  copyTree(join(moduleDir, SCHEMA_SUBDIR), join(staging, SCHEMA_SUBDIR));
  rmSync(root, { recursive: true, force: true });
  renameSync(staging, root);
  log(
    `built the Temporal server ${TEMPORAL_SERVER_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

/**
 * The Temporal server, temporal-sql-tool and PostgreSQL schema of `TEMPORAL_SERVER_VERSION`: from the project
 * cache (`.cache/temporal-server/<version>`), else built into it with `go install` (minutes, once).
 */
export function findTemporalServer(
  options: { env?: NodeJS.ProcessEnv; install?: boolean; logger?: Logger } = {},
): TemporalServerFiles | undefined {
  const env = options.env ?? process.env;
  const root = join(cacheDir(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
  const files = serverFiles(root);
  if (complete(files)) return files;
  if (options.install === false) return undefined;
  buildTemporalServer(root, env, logTo(options.logger));
  return files;
}
