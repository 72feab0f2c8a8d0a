import { ConfigError, loadConfig, requireFor } from '../../src/config';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OLD_SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const LONG_SECRET = `whsec_${Buffer.alloc(64, 9).toString('base64')}`;

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies SPEC defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      signingSecrets: [],
      temporal: { address: 'localhost:7233', namespace: 'default', taskQueue: 'clerk-sync', tls: false },
      salesforce: undefined,
      email: undefined,
      slack: undefined,
      encryptionKeys: [],
      allowPlaintextInputs: false,
      codecOrigins: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('splits several signing secrets on spaces and commas, and accepts the CLERK_WEBHOOK_SECRET alias', () => {
    expect(
      loadConfig({ CLERK_WEBHOOK_SIGNING_SECRET: `${SECRET}, ${OLD_SECRET}  ${LONG_SECRET}` }).signingSecrets,
    ).toEqual([SECRET, OLD_SECRET, LONG_SECRET]);
    expect(loadConfig({ CLERK_WEBHOOK_SECRET: SECRET }).signingSecrets).toEqual([SECRET]);
  });

  it('builds the Salesforce client-credentials settings, or a ready session', () => {
    expect(
      loadConfig({
        SALESFORCE_CLIENT_ID: 'id',
        SALESFORCE_CLIENT_SECRET: 'secret',
        SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
      }).salesforce,
    ).toEqual({
      kind: 'client-credentials',
      loginUrl: 'https://acme.my.salesforce.com',
      clientId: 'id',
      clientSecret: 'secret',
      apiVersion: '62.0',
    });
    expect(
      loadConfig({
        SALESFORCE_INSTANCE_URL: 'https://acme.my.salesforce.com',
        SALESFORCE_ACCESS_TOKEN: '00D!x',
        SALESFORCE_API_VERSION: '64.0',
      }).salesforce,
    ).toEqual({
      kind: 'session',
      instanceUrl: 'https://acme.my.salesforce.com',
      accessToken: '00D!x',
      apiVersion: '64.0',
    });
  });

  it('parses rotation-ready encryption keys; the first one encrypts', () => {
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const keys = loadConfig({ CLERK_SYNC_ENCRYPTION_KEY: `2026-11:${k1} 2026-05:${k2}` }).encryptionKeys;
    expect(keys.map((k) => k.id)).toEqual(['2026-11', '2026-05']);
    expect(keys[0]!.key.equals(Buffer.alloc(32, 1))).toBe(true);
  });

  it('reads the codec server origins as browsers send them, and the plaintext-inputs migration switch', () => {
    const config = loadConfig({
      CLERK_SYNC_CODEC_ORIGINS:
        'https://Temporal.Example.com/, http://localhost:8080 https://ui.example.com:443',
      CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS: 'true',
    });
    expect(config.codecOrigins).toEqual([
      'https://temporal.example.com',
      'http://localhost:8080',
      'https://ui.example.com',
    ]);
    expect(config.allowPlaintextInputs).toBe(true);
  });

  // Issue 12: svix decodes each secret at the first request and throws there, naming no variable.
  test.each([
    ['not base64 after the prefix', 'whsec_abc'],
    ['bad padding', 'whsec_YQ='],
    ['characters base64 does not have', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-aSw'],
    ['too short to be a Svix secret', 'whsec_b2xk'],
    ['too long to be a Svix secret', `whsec_${Buffer.alloc(96).toString('base64')}`],
    ['the prefix alone', 'whsec_'],
  ])('refuses a signing secret that is %s, naming the variable but not the value', (_, secret) => {
    for (const variable of ['CLERK_WEBHOOK_SIGNING_SECRET', 'CLERK_WEBHOOK_SECRET']) {
      const problems = problemsOf({ [variable]: `${SECRET} ${secret}` }).join('\n');
      expect(problems).toMatch(new RegExp(`^${variable}: secret 2 of 2 .*whsec_<base64>`));
      if (secret !== 'whsec_') expect(problems).not.toContain(secret);
    }
  });

  it('switches features off when their credentials are absent', () => {
    const config = loadConfig({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X' });
    expect(config.slack).toEqual({ webhookUrl: 'https://hooks.slack.com/services/T/B/X' });
    expect(config.email).toBeUndefined();
    expect(config.clerk).toBeUndefined();
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT: must be a port number between 0 and 65535'],
    [
      { CLERK_WEBHOOK_SIGNING_SECRET: 'not a secret!' },
      'CLERK_WEBHOOK_SIGNING_SECRET: secret 1 of 3 is not base64 after whsec_',
    ],
    [{ CLERK_SECRET_KEY: 'pk_test_abc' }, 'CLERK_SECRET_KEY: must look like sk_test_… or sk_live_…'],
    [{ SLACK_WEBHOOK_URL: 'hooks.slack.com' }, 'SLACK_WEBHOOK_URL: must be an http(s) URL'],
    [
      { CLERK_SYNC_ENCRYPTION_KEY: 'k1:c2hvcnQ=' },
      'CLERK_SYNC_ENCRYPTION_KEY: each entry must be keyId:<base64 of 32 bytes>',
    ],
    [{ SALESFORCE_CLIENT_ID: 'id' }, 'SALESFORCE_CLIENT_SECRET: required together with SALESFORCE_CLIENT_ID'],
    [{ RESEND_API_KEY: 're_123' }, 'WELCOME_EMAIL_FROM: required when RESEND_API_KEY is set'],
    [{ SALESFORCE_API_VERSION: 'v62' }, 'SALESFORCE_API_VERSION: must look like 62.0'],
    [{ TEMPORAL_TLS: 'maybe' }, 'TEMPORAL_TLS: must be true or false'],
    [{ CLERK_SYNC_API_KEY: 'short' }, 'CLERK_SYNC_API_KEY: must be at least 16 characters'],
    [
      { CLERK_SYNC_CODEC_ORIGINS: 'https://temporal.example.com/namespaces/default' },
      'CLERK_SYNC_CODEC_ORIGINS: "https://temporal.example.com/namespaces/default" is not an origin',
    ],
    [{ CLERK_SYNC_CODEC_ORIGINS: '*' }, 'CLERK_SYNC_CODEC_ORIGINS: "*" is not an origin'],
    [
      { CLERK_SYNC_CODEC_ORIGINS: 'temporal.example.com' },
      'CLERK_SYNC_CODEC_ORIGINS: "temporal.example.com"',
    ],
    [
      { CLERK_SYNC_CODEC_ORIGINS: 'ftp://ui.example.com' },
      'CLERK_SYNC_CODEC_ORIGINS: "ftp://ui.example.com"',
    ],
    [
      { CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS: 'sometimes' },
      'CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS: must be true or false',
    ],
  ])('names the variable and what is wrong: %j', (env, problem) => {
    expect(problemsOf(env).join('\n')).toContain(problem);
  });

  it('reports every bad variable at once and points to .env.example', () => {
    expect(() => loadConfig({ PORT: '-1', SLACK_WEBHOOK_URL: 'nope' })).toThrow(
      /see \.env\.example[\s\S]*PORT[\s\S]*SLACK_WEBHOOK_URL/,
    );
  });

  it('production roles require what they cannot run without', () => {
    expect(() => requireFor(loadConfig({}), 'api')).toThrow(/CLERK_WEBHOOK_SIGNING_SECRET: required/);
    expect(() => requireFor(loadConfig({}), 'worker')).toThrow(
      /SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: required/,
    );
    expect(() => requireFor(loadConfig({ CLERK_WEBHOOK_SIGNING_SECRET: SECRET }), 'api')).not.toThrow();
  });
});
