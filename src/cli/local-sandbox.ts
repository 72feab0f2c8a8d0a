import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `npm start` serves the sandbox unless told otherwise (`clerk-sync dev --sandbox-port`). */
export const LOCAL_SANDBOX_URL = 'http://localhost:4010';

/** Variables that give each service its credentials; a service with none of them set is the sandbox's in local mode. */
const SERVICES: readonly { given: readonly string[]; from: readonly string[] }[] = [
  {
    given: ['SALESFORCE_CLIENT_ID', 'SALESFORCE_ACCESS_TOKEN'],
    from: ['SALESFORCE_LOGIN_URL', 'SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET'],
  },
  { given: ['CLERK_SECRET_KEY'], from: ['CLERK_API_URL', 'CLERK_SECRET_KEY'] },
  { given: ['RESEND_API_KEY'], from: ['RESEND_BASE_URL', 'RESEND_API_KEY'] },
  { given: ['SLACK_WEBHOOK_URL'], from: ['SLACK_WEBHOOK_URL'] },
];

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
  const missing = SERVICES.filter((s) => s.given.every((name) => !env[name]));
  if (missing.length === 0 || !existsSync(join(resolve(cwd, '.data'), 'local.json'))) return { env };
  let served: Record<string, string>;
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/_sandbox/env`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!res.ok) return { env };
    served = (await res.json()) as Record<string, string>;
  } catch {
    return { env };
  }
  const filled = { ...env };
  for (const service of missing) for (const name of service.from) filled[name] = served[name];
  // As `npm start` does: a sender for the sandbox's Resend (its verified example.com).
  if (missing.some((s) => s.given.includes('RESEND_API_KEY'))) {
    filled.WELCOME_EMAIL_FROM ??= served.WELCOME_EMAIL_FROM;
  }
  return { env: filled, sandbox: url };
}
