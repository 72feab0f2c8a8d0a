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
  /** A `CLERK_SYNC_ENCRYPTION_KEY` entry (`keyId:base64`). */
  encryptionKey?: string;
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

/**
 * The payload encryption key local mode generated on its first run (`local-<hex>:<base64>`), so that the local
 * Web UI reads histories through the codec server as it would in production; kept so old histories still decode.
 */
export function localEncryptionKey(cwd?: string): { entry: string; keyId: string; generated: boolean } {
  const state = readState(cwd);
  const generated = !state.encryptionKey;
  const entry =
    state.encryptionKey ?? `local-${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`;
  if (generated) {
    writeFileSync(statePath(cwd), `${JSON.stringify({ ...state, encryptionKey: entry }, null, 2)}\n`, {
      mode: 0o600,
    });
  }
  return { entry, keyId: entry.split(':')[0]!, generated };
}

/** The secret local mode signs with: the configured one, else the generated one (never generates). */
export function existingLocalSecret(cwd?: string): string | undefined {
  return readState(cwd).signingSecret;
}

/**
 * The environment for operator commands (`replay`, `backfill`) run beside `npm start`: local mode's generated
 * encryption key fills in when the environment sets none, so they read the histories local mode wrote.
 */
export function withLocalKeys(
  env: Record<string, string | undefined>,
  cwd = process.cwd(),
): Record<string, string | undefined> {
  const path = join(resolve(cwd, '.data'), 'local.json');
  if (env.CLERK_SYNC_ENCRYPTION_KEY || !existsSync(path)) return env;
  const state = JSON.parse(readFileSync(path, 'utf8')) as LocalState;
  return state.encryptionKey ? { ...env, CLERK_SYNC_ENCRYPTION_KEY: state.encryptionKey } : env;
}
