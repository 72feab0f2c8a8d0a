import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Local mode keeps its state (Temporal's database, the generated secret) in `./.data`, git-ignored. */
export function dataDir(cwd = process.cwd()): string {
  const dir = resolve(cwd, '.data');
  mkdirSync(dir, { recursive: true });
  return dir;
}

interface LocalState {
  signingSecret?: string;
}

function statePath(cwd?: string): string {
  return join(dataDir(cwd), 'local.json');
}

function readState(cwd?: string): LocalState {
  const path = statePath(cwd);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as LocalState) : {};
}

/** The signing secret local mode generated on its first run; kept so signed samples keep verifying. */
export function localSigningSecret(cwd?: string): { secret: string; generated: boolean } {
  const state = readState(cwd);
  if (state.signingSecret) return { secret: state.signingSecret, generated: false };
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  writeFileSync(statePath(cwd), `${JSON.stringify({ ...state, signingSecret: secret }, null, 2)}\n`, {
    mode: 0o600,
  });
  return { secret, generated: true };
}

/** The secret local mode signs with: the configured one, else the generated one (never generates). */
export function existingLocalSecret(cwd?: string): string | undefined {
  return readState(cwd).signingSecret;
}
