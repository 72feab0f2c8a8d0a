// Which services local mode points at the sandbox, written once: `npm start` (dev.ts) and the operator commands run
// beside it (cli/local-sandbox.ts) fill in the same variables. No import of the sandbox: these are names and values.

/** Variables as the sandbox serves them (its `env`, or `GET /_sandbox/env`). */
export type SandboxVariables = Readonly<
  Partial<
    Record<
      | 'SALESFORCE_LOGIN_URL'
      | 'SALESFORCE_CLIENT_ID'
      | 'SALESFORCE_CLIENT_SECRET'
      | 'CLERK_API_URL'
      | 'CLERK_SECRET_KEY'
      | 'RESEND_BASE_URL'
      | 'RESEND_API_KEY'
      | 'WELCOME_EMAIL_FROM'
      | 'SLACK_WEBHOOK_URL',
      string
    >
  >
>;

/** The sandbox fills in exactly the services that have no credentials of their own. */
export function sandboxOverrides(
  env: Record<string, string | undefined>,
  sandbox: SandboxVariables,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (!env.SALESFORCE_CLIENT_ID && !env.SALESFORCE_ACCESS_TOKEN) {
    Object.assign(out, {
      SALESFORCE_LOGIN_URL: sandbox.SALESFORCE_LOGIN_URL,
      SALESFORCE_CLIENT_ID: sandbox.SALESFORCE_CLIENT_ID,
      SALESFORCE_CLIENT_SECRET: sandbox.SALESFORCE_CLIENT_SECRET,
    });
  }
  if (!env.CLERK_SECRET_KEY)
    Object.assign(out, { CLERK_API_URL: sandbox.CLERK_API_URL, CLERK_SECRET_KEY: sandbox.CLERK_SECRET_KEY });
  if (!env.RESEND_API_KEY) {
    Object.assign(out, {
      RESEND_BASE_URL: sandbox.RESEND_BASE_URL,
      RESEND_API_KEY: sandbox.RESEND_API_KEY,
      WELCOME_EMAIL_FROM: env.WELCOME_EMAIL_FROM ?? sandbox.WELCOME_EMAIL_FROM,
    });
  }
  if (!env.SLACK_WEBHOOK_URL) out.SLACK_WEBHOOK_URL = sandbox.SLACK_WEBHOOK_URL;
  return out;
}

/** True when some service has no credentials of its own, so local mode needs the sandbox. */
export const needsSandbox = (env: Record<string, string | undefined>): boolean =>
  Object.keys(sandboxOverrides(env, {})).length > 0;
