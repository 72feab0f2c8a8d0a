import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { blackhole } from '../helpers/net';

const BIN = resolve(__dirname, '..', '..', 'dist', 'bin.js');
const STACK = /\n\s+at /;

/** Runs the built `clerk-sync` command in an empty directory with only PATH. */
function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'clerk-sync-cli-')),
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('what clerk-sync prints when a command fails', () => {
  test.each([
    ['an unknown sample', ['send-sample', 'nonsense'], 'clerk-sync: Unknown sample "nonsense"'],
    [
      'a schedule under a minute',
      ['backfill', '--schedule', '6'],
      'clerk-sync: --schedule takes an interval',
    ],
    [
      'a seed file that does not exist',
      ['sandbox', '--seed', '/nonexistent/seed.json'],
      'clerk-sync: --seed: no file',
    ],
  ])('a usage error (%s) is its message alone, exit 1', (_label, args, message) => {
    const res = run(args);
    expect(res.status).toBe(1);
    expect(res.stderr.startsWith(message)).toBe(true);
    expect(res.stderr).not.toMatch(STACK);
  });

  it('anything else keeps its stack, exit 1: here a port already in use', async () => {
    const taken = await blackhole();
    try {
      const port = taken.address.split(':').at(-1)!;
      const res = run(['sandbox', '--port', port]);
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/^clerk-sync: Error: listen EADDRINUSE/);
      expect(res.stderr).toMatch(STACK);
    } finally {
      await taken.close();
    }
  });
});
