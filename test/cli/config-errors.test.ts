import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(__dirname, '..', '..', 'dist', 'bin.js');

/** Runs the built `clerk-sync` command in an empty directory with only `env` (plus PATH). */
function run(args: string[], env: Record<string, string>, files: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'clerk-sync-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(cwd, name), content);
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('clerk-sync with a bad configuration', () => {
  it('api without a signing secret refuses to start, naming the variable', () => {
    const res = run(['api'], {});
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('CLERK_WEBHOOK_SIGNING_SECRET: required');
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a malformed variable in .env is named, with what is wrong', () => {
    const res = run(['api'], {}, { '.env': 'CLERK_WEBHOOK_SIGNING_SECRET=whsec_abc\nPORT=http\n' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('PORT: must be a port number between 0 and 65535');
  });

  it('worker without Salesforce credentials refuses to start', () => {
    const res = run(['worker'], { CLERK_WEBHOOK_SIGNING_SECRET: 'whsec_abc' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: required');
  });

  it('--help lists the sub-commands', () => {
    const res = run(['--help'], {});
    expect(res.status).toBe(0);
    for (const command of [
      'api',
      'worker',
      'dev',
      'sandbox',
      'send-sample',
      'temporal-setup',
      'replay',
      'salesforce',
      'backfill',
    ]) {
      expect(res.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('a bad option is a usage error, not a stack trace', () => {
    const res = run(['sandbox', '--port', 'abc'], {});
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("option '--port <port>' argument 'abc' is invalid");
  });
});
