import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

/** Where every variable is documented; named in each configuration error. */
const EXAMPLE = '.env.example';

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (what: string) =>
  optionalText.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
    message: `must be an http(s) URL (${what})`,
  });

/** Standard base64, padded: the form Svix's verifier decodes (it throws on anything else, at the first request). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Svix endpoint secrets are 24 to 75 bytes (Clerk's dashboard shows 24: `whsec_` and 32 characters). */
const SECRET_BYTES = { min: 24, max: 75 };

/** Why `secret` is not a usable `whsec_…` signing secret, or undefined when it is. */
function signingSecretProblem(secret: string): string | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (encoded === '' || !BASE64.test(encoded)) return 'is not base64 after whsec_';
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < SECRET_BYTES.min || bytes > SECRET_BYTES.max) {
    return `decodes to ${bytes} bytes, not ${SECRET_BYTES.min} to ${SECRET_BYTES.max}`;
  }
  return undefined;
}

/** Several `whsec_…` secrets separated by spaces or commas: Svix signs with every valid key during a rotation. */
const signingSecrets = optionalText.transform((v, ctx) => {
  const secrets = (v ?? '').split(/[\s,]+/).filter(Boolean);
  for (const [i, s] of secrets.entries()) {
    const problem = signingSecretProblem(s);
    if (problem) {
      // Never the value: it is a secret. Its position tells which one during a rotation.
      const which = secrets.length > 1 ? `secret ${i + 1} of ${secrets.length}` : 'the secret';
      ctx.addIssue({
        code: 'custom',
        message: `${which} ${problem}: each secret must look like whsec_<base64> (copy it from the Clerk dashboard)`,
      });
      return z.NEVER;
    }
  }
  return secrets;
});

/** `keyId:base64` entries (32-byte AES-256 keys); the first one encrypts, all of them decrypt. */
const encryptionKeys = optionalText.transform((v, ctx) => {
  const entries = (v ?? '').split(/[\s,]+/).filter(Boolean);
  const keys: { id: string; key: Buffer }[] = [];
  for (const entry of entries) {
    const [id, b64, ...rest] = entry.split(':');
    const key = b64 === undefined ? undefined : Buffer.from(b64, 'base64');
    if (!id || rest.length > 0 || key?.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message: 'each entry must be keyId:<base64 of 32 bytes> (openssl rand -base64 32)',
      });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  return keys;
});

/**
 * Browser origins (`scheme://host[:port]`, separated by spaces or commas), in the form browsers send them in
 * `Origin`: a URL with a path, a query, credentials or a wildcard is refused rather than guessed at.
 */
const origins = optionalText.transform((v, ctx) => {
  const list: string[] = [];
  for (const entry of (v ?? '').split(/[\s,]+/).filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    const bare =
      url &&
      /^https?:$/.test(url.protocol) &&
      !url.username &&
      !url.password &&
      url.pathname === '/' &&
      !url.search &&
      !url.hash &&
      !/[?#]/.test(entry);
    if (!url || !bare) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" is not an origin: each entry must be scheme://host[:port], e.g. https://temporal.example.com`,
      });
      return z.NEVER;
    }
    if (!list.includes(url.origin)) list.push(url.origin);
  }
  return list;
});

const port = (fallback: number) =>
  optionalText.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      ctx.addIssue({ code: 'custom', message: 'must be a port number between 0 and 65535' });
      return z.NEVER;
    }
    return n;
  });

const flag = optionalText.transform((v, ctx) => {
  if (v === undefined) return false;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  ctx.addIssue({ code: 'custom', message: 'must be true or false' });
  return z.NEVER;
});

const schema = z.object({
  CLERK_WEBHOOK_SIGNING_SECRET: signingSecrets,
  CLERK_WEBHOOK_SECRET: signingSecrets,
  PORT: port(3000),
  TEMPORAL_ADDRESS: optionalText.default('localhost:7233'),
  TEMPORAL_NAMESPACE: optionalText.default('default'),
  TEMPORAL_TASK_QUEUE: optionalText.default('clerk-sync'),
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TLS: flag,
  SALESFORCE_LOGIN_URL: url('e.g. https://login.salesforce.com or https://<domain>.my.salesforce.com'),
  SALESFORCE_CLIENT_ID: optionalText,
  SALESFORCE_CLIENT_SECRET: optionalText,
  SALESFORCE_INSTANCE_URL: url('e.g. https://<domain>.my.salesforce.com'),
  SALESFORCE_ACCESS_TOKEN: optionalText,
  SALESFORCE_API_VERSION: optionalText
    .default('62.0')
    .refine((v) => /^\d{2,3}\.0$/.test(v ?? ''), { message: 'must look like 62.0' }),
  CLERK_SECRET_KEY: optionalText.refine((v) => v === undefined || /^sk_(test|live)_\S+$/.test(v), {
    message: 'must look like sk_test_… or sk_live_…',
  }),
  CLERK_API_URL: url('defaults to https://api.clerk.com'),
  RESEND_API_KEY: optionalText,
  RESEND_BASE_URL: url('defaults to https://api.resend.com'),
  WELCOME_EMAIL_FROM: optionalText,
  WELCOME_EMAIL_SUBJECT: optionalText,
  SLACK_WEBHOOK_URL: url('a Slack incoming-webhook URL'),
  CLERK_SYNC_API_KEY: optionalText.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  CLERK_SYNC_ENCRYPTION_KEY: encryptionKeys,
  CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS: flag,
  CLERK_SYNC_CODEC_ORIGINS: origins,
  CLERK_SYNC_WORKER_METRICS_ADDRESS: optionalText.refine(
    (v) => v === undefined || /^[\w.-]+:\d{1,5}$|^\[[\da-fA-F:]+\]:\d{1,5}$/.test(v),
    { message: 'must be host:port, e.g. 0.0.0.0:9464' },
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Every variable the configuration reads; `.env.example` and the README document exactly these. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** Salesforce connection settings: the client-credentials flow, or a ready session. */
export type SalesforceConfig =
  | {
      kind: 'client-credentials';
      loginUrl: string;
      clientId: string;
      clientSecret: string;
      apiVersion: string;
    }
  | { kind: 'session'; instanceUrl: string; accessToken: string; apiVersion: string };

/** The whole validated configuration; built once per process by `loadConfig`. */
export interface Config {
  readonly port: number;
  readonly signingSecrets: readonly string[];
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly apiKey?: string;
    readonly tls: boolean;
  };
  readonly salesforce?: SalesforceConfig;
  readonly clerk?: { readonly secretKey: string; readonly apiUrl?: string };
  readonly email?: {
    readonly apiKey: string;
    readonly baseUrl?: string;
    readonly from: string;
    readonly subject: string;
  };
  readonly slack?: { readonly webhookUrl: string };
  readonly operatorApiKey?: string;
  readonly encryptionKeys: readonly { readonly id: string; readonly key: Buffer }[];
  /** With encryption keys: whether workers run workflows whose inputs reached Temporal unencrypted (a migration). */
  readonly allowPlaintextInputs: boolean;
  /** Browser origins the codec server answers (CORS), e.g. the Temporal Web UI's. */
  readonly codecOrigins: readonly string[];
  /** Where the worker serves Prometheus metrics (the SDK's and clerk-sync's own); none when absent. */
  readonly workerMetricsAddress?: string;
  readonly logLevel: string;
}

/** Thrown for a bad environment: names every bad variable and what is wrong with it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (see ${EXAMPLE}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The process environment merged over a `.env` file in the working directory (the environment wins). */
export function readEnv(
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...env };
}

/** Parses and validates the configuration once; throws `ConfigError` naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = readEnv()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const both = (names: string[], values: (string | undefined)[]) => {
    const given = values.filter((v) => v !== undefined).length;
    if (given > 0 && given < values.length) {
      const missing = names.filter((_, i) => values[i] === undefined);
      problems.push(
        `${missing.join(', ')}: required together with ${names.filter((n) => !missing.includes(n)).join(', ')}`,
      );
    }
    return given === values.length;
  };

  const apiVersion = e.SALESFORCE_API_VERSION ?? '62.0';
  let salesforce: SalesforceConfig | undefined;
  if (
    both(
      ['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET'],
      [e.SALESFORCE_CLIENT_ID, e.SALESFORCE_CLIENT_SECRET],
    )
  ) {
    salesforce = {
      kind: 'client-credentials',
      loginUrl: e.SALESFORCE_LOGIN_URL ?? 'https://login.salesforce.com',
      clientId: e.SALESFORCE_CLIENT_ID!,
      clientSecret: e.SALESFORCE_CLIENT_SECRET!,
      apiVersion,
    };
  } else if (
    both(
      ['SALESFORCE_INSTANCE_URL', 'SALESFORCE_ACCESS_TOKEN'],
      [e.SALESFORCE_INSTANCE_URL, e.SALESFORCE_ACCESS_TOKEN],
    )
  ) {
    salesforce = {
      kind: 'session',
      instanceUrl: e.SALESFORCE_INSTANCE_URL!,
      accessToken: e.SALESFORCE_ACCESS_TOKEN!,
      apiVersion,
    };
  }
  if (e.WELCOME_EMAIL_FROM && !/<?[^\s<>@]+@[^\s<>@]+>?$/.test(e.WELCOME_EMAIL_FROM)) {
    problems.push('WELCOME_EMAIL_FROM: must be an address, e.g. "Acme <hello@acme.com>"');
  }
  if (e.RESEND_API_KEY && !e.WELCOME_EMAIL_FROM) {
    problems.push(
      'WELCOME_EMAIL_FROM: required when RESEND_API_KEY is set (the sender of the welcome email)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    port: e.PORT,
    signingSecrets: [...(e.CLERK_WEBHOOK_SIGNING_SECRET ?? []), ...(e.CLERK_WEBHOOK_SECRET ?? [])],
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? 'localhost:7233',
      namespace: e.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: e.TEMPORAL_TASK_QUEUE ?? 'clerk-sync',
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS || e.TEMPORAL_API_KEY !== undefined,
    },
    salesforce,
    clerk: e.CLERK_SECRET_KEY ? { secretKey: e.CLERK_SECRET_KEY, apiUrl: e.CLERK_API_URL } : undefined,
    email:
      e.RESEND_API_KEY && e.WELCOME_EMAIL_FROM
        ? {
            apiKey: e.RESEND_API_KEY,
            baseUrl: e.RESEND_BASE_URL,
            from: e.WELCOME_EMAIL_FROM,
            subject: e.WELCOME_EMAIL_SUBJECT ?? 'Welcome aboard',
          }
        : undefined,
    slack: e.SLACK_WEBHOOK_URL ? { webhookUrl: e.SLACK_WEBHOOK_URL } : undefined,
    operatorApiKey: e.CLERK_SYNC_API_KEY,
    encryptionKeys: e.CLERK_SYNC_ENCRYPTION_KEY ?? [],
    allowPlaintextInputs: e.CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS,
    codecOrigins: e.CLERK_SYNC_CODEC_ORIGINS ?? [],
    workerMetricsAddress: e.CLERK_SYNC_WORKER_METRICS_ADDRESS,
    logLevel: e.LOG_LEVEL,
  });
}

/** Checks what a production process cannot run without; throws `ConfigError` naming what is missing. */
export function requireFor(config: Config, role: 'api' | 'worker'): void {
  const problems: string[] = [];
  if (role === 'api' && config.signingSecrets.length === 0) {
    problems.push(
      'CLERK_WEBHOOK_SIGNING_SECRET: required (the whsec_… secret of the Clerk webhook endpoint)',
    );
  }
  if (role === 'worker' && !config.salesforce) {
    problems.push(
      'SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: required (or SALESFORCE_INSTANCE_URL with SALESFORCE_ACCESS_TOKEN)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
