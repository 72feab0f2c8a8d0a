import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

// Issue 16: the suite runs on a Node that package.json's "engines" supports (Node 24 LTS here), and so do the
// processes it starts; on an older `node`, scripts/with-node.mjs provides one and says so in one line.
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'with-node.mjs');
const engines = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
).engines.node;
const [minMajor, minMinor] = /^>=(\d+)\.(\d+)$/.exec(engines)!.slice(1).map(Number) as [number, number];
const supported = (version: string) => {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number) as [number, number];
  return major > minMajor || (major === minMajor && minor >= minMinor);
};
const versionOf = (node: string) =>
  execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).trim();

it(`jest runs on a Node that "engines" (${engines}) supports`, () => {
  expect({ node: process.version, supported: supported(process.version) }).toEqual({
    node: process.version,
    supported: true,
  });
});

it('so does the `node` that the processes the tests start find on PATH', () => {
  expect(versionOf('node')).toBe(process.version);
});

it('with-node runs a command as it is under a supported node, adding nothing', () => {
  const run = spawnSync(process.execPath, [SCRIPT, 'node', '-p', 'process.version'], { encoding: 'utf8' });
  expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
    status: 0,
    stdout: `${process.version}\n`,
    stderr: '',
  });
});

// An older node where this machine has one (the project's machines carry Node 20 at /usr/bin/node).
const older = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && !supported(versionOf(p)));
(older ? it : it.skip)(
  'with-node runs a command on Node 24 from the cache under an older node, in one line',
  () => {
    const run = spawnSync(older!, [SCRIPT, 'node', '-p', 'process.version'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dirname(older!)}${delimiter}${process.env.PATH ?? ''}` },
      timeout: 300_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^v24\.\d+\.\d+\n$/);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^clerk-sync: node v\d+\.\d+\.\d+ is older than this project supports \(>=\d+\.\d+\): /,
      ),
    ]);
  },
);
