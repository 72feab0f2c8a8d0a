import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { needsSandbox, sandboxOverrides, type SandboxVariables } from '../local/sandbox-env';

/** Where `npm start` serves the sandbox unless told otherwise (`clerk-sync dev --sandbox-port`). */
export const LOCAL_SANDBOX_URL = 'http://localhost:4010';

/**
 * The environment of an operator command (`doctor`, `explain`) run beside `npm start`: where local mode has run in
 * this directory (`.data/local.json`) and a service has no credentials of its own, the running sandbox's are used, as
 * `npm start` uses them (the sandbox answers them at `GET /_sandbox/env`). Nothing changes when no sandbox answers.
 * Returns the sandbox's URL when it filled anything in.
 */
export async function withLocalSandbox(
  env: Record<string, string | undefined>,
  { url = LOCAL_SANDBOX_URL, cwd = process.cwd() }: { url?: string; cwd?: string } = {},
): Promise<{ env: Record<string, string | undefined>; sandbox?: string }> {
  if (!needsSandbox(env) || !existsSync(join(resolve(cwd, '.data'), 'local.json'))) return { env };
  let served: SandboxVariables;
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/_sandbox/env`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!res.ok) return { env };
    served = (await res.json()) as SandboxVariables;
  } catch {
    return { env };
  }
  const filled = { ...env, ...sandboxOverrides(env, served) };
  return { env: filled, sandbox: url };
}
