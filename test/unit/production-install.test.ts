import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';

// The production image installs with `npm ci --omit=dev --workspaces=false` (see the Dockerfile): the sandbox and the
// Temporal test server stay out of it. These tests check that install's package tree, that only local mode needs the
// left-out packages, and that local mode says so plainly where they are missing.

const ROOT = join(__dirname, '..', '..');
const DEV_ONLY = ['@clerk-sync/sandbox', '@temporalio/testing'];

/** The production tree, as `npm ci --omit=dev --workspaces=false` installs it: absolute package folders. */
function productionTree(): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--workspaces=false', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.split('\n').filter((line) => line.startsWith(join(ROOT, 'node_modules') + sep));
}

function builtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? builtFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

describe('the production install', () => {
  it('leaves out the sandbox and the Temporal test server, keeping the SDKs the product runs', () => {
    const packages = productionTree().map((path) => relative(join(ROOT, 'node_modules'), path));
    for (const name of DEV_ONLY) expect(packages).not.toContain(name);
    for (const name of ['@temporalio/worker', '@temporalio/client', 'jsforce', 'svix', 'koa', 'resend'])
      expect(packages).toContain(name);
  });

  it('needs those packages only in local mode (dist/local, dist/cli/sandbox.js)', () => {
    const users = builtFiles(join(ROOT, 'dist'))
      .filter((file) => DEV_ONLY.some((name) => readFileSync(file, 'utf8').includes(`require("${name}")`)))
      .map((file) => relative(join(ROOT, 'dist'), file).split(sep).join('/'));
    expect(users.length).toBeGreaterThan(0);
    for (const file of users) expect(file).toMatch(/^local\/|^cli\/sandbox\.js$/);
  });

  describe('run from a folder holding only the production tree', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'clerk-sync-prod-'));
      cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      // Only the top-level packages of the production tree; nested ones come with their parents.
      for (const path of productionTree()) {
        const name = relative(join(ROOT, 'node_modules'), path);
        if (name.includes(`${sep}node_modules${sep}`)) continue;
        mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
        symlinkSync(path, join(dir, 'node_modules', name), 'dir');
      }
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(dir, 'dist', 'bin.js'), ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NODE_PATH: '' },
        timeout: 30_000,
      });

    it('starts the product commands', () => {
      const help = run('--help');
      expect(help.stderr).toBe('');
      expect(help.stdout).toMatch(/\bapi\b[\s\S]*\bworker\b/);
      // The worker and the API load (a configuration error is the first thing they can hit here).
      for (const command of ['worker', 'api']) {
        const started = run(command);
        expect({ command, stderr: started.stderr }).toEqual({
          command,
          stderr: expect.stringMatching(/Configuration|environment/i),
        });
        expect(started.stderr).not.toMatch(/Cannot find module/);
      }
    });

    it.each(['dev', 'sandbox', 'send-sample'])(
      'answers `clerk-sync %s` with what is missing and why',
      (command) => {
        const result = run(command);
        expect(result.status).toBe(1); // a usage error, as bin.ts exits for any
        expect(result.stderr).toContain(`clerk-sync ${command} is local mode and needs @clerk-sync/sandbox`);
        expect(result.stderr).toContain('production image');
        expect(result.stderr).not.toMatch(/\n\s+at /);
      },
    );
  });
});
