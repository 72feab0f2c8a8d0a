import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(__dirname, '..', '..', 'dist', 'bin.js');
/** A well-formed secret (24 bytes, as the Clerk dashboard shows them). */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

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
    const res = run(['api'], {}, { '.env': `CLERK_WEBHOOK_SIGNING_SECRET=${SECRET}\nPORT=http\n` });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('PORT: must be a port number between 0 and 65535');
  });

  // Issue 12: these passed validation, then the API crashed at start-up with svix's "Base64Coder: incorrect padding".
  test.each([
    ['CLERK_WEBHOOK_SIGNING_SECRET', 'whsec_abc'],
    ['CLERK_WEBHOOK_SECRET', 'whsec_YQ='],
    ['CLERK_WEBHOOK_SIGNING_SECRET', 'whsec_b2xk'],
  ])('api with a malformed %s (%s) exits 2 naming the variable', (variable, secret) => {
    const res = run(['api'], { [variable]: secret, PORT: '0' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`${variable}: the secret `);
    expect(res.stderr).toContain('each secret must look like whsec_<base64>');
    expect(res.stderr).not.toContain(secret);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('a codec origin that is not an origin exits 2 naming the variable', () => {
    const res = run(['api'], {
      CLERK_WEBHOOK_SIGNING_SECRET: SECRET,
      CLERK_SYNC_CODEC_ORIGINS: 'https://temporal.example.com/namespaces/default',
      PORT: '0',
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(
      'CLERK_SYNC_CODEC_ORIGINS: "https://temporal.example.com/namespaces/default" is not an origin',
    );
  });

  it('worker without Salesforce credentials refuses to start', () => {
    const res = run(['worker'], { CLERK_WEBHOOK_SIGNING_SECRET: SECRET });
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
