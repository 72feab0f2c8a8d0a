import { runSandboxCommand } from '../../src/cli/sandbox';
import { loadConfig } from '../../src/config';

const NAMES = [
  'SALESFORCE_LOGIN_URL',
  'SALESFORCE_CLIENT_ID',
  'SALESFORCE_CLIENT_SECRET',
  'CLERK_API_URL',
  'CLERK_SECRET_KEY',
  'RESEND_BASE_URL',
  'RESEND_API_KEY',
  'WELCOME_EMAIL_FROM',
  'SLACK_WEBHOOK_URL',
  'CLERK_WEBHOOK_SIGNING_SECRET',
];

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('clerk-sync sandbox', () => {
  it('prints everything an API and a worker need as NAME=value lines, the page URL on stderr, serves until stopped', async () => {
    let stdout = '';
    let stderr = '';
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    const stop = new AbortController();
    try {
      const running = runSandboxCommand({ port: 0, signal: stop.signal });
      await waitUntil(() => stdout.split('\n').length > NAMES.length);

      const lines = stdout.trimEnd().split('\n');
      expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(NAMES);
      const env = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(env.CLERK_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/clerk$/);
      expect(env.CLERK_SECRET_KEY).toMatch(/^sk_test_/);
      expect(env.RESEND_API_KEY).toMatch(/^re_/);
      expect(env.SLACK_WEBHOOK_URL).toMatch(/\/slack\/services\/T\w+\/B\w+\/\w+$/);
      // Everything an API and a worker need: the printed lines alone are a configuration with every feature on.
      const config = loadConfig(env);
      expect({
        salesforce: config.salesforce !== undefined,
        clerk: config.clerk !== undefined,
        email: config.email !== undefined,
        slack: config.slack !== undefined,
      }).toEqual({ salesforce: true, clerk: true, email: true, slack: true });

      const pageUrl = /(http:\/\/\S+\/)/.exec(stderr)?.[1];
      expect(pageUrl).toBeDefined();
      const page = await fetch(pageUrl!);
      expect(page.status).toBe(200);

      const users = await fetch(`${env.CLERK_API_URL}/v1/users/count`, {
        headers: { authorization: `Bearer ${env.CLERK_SECRET_KEY}` },
      });
      expect(await users.json()).toEqual({ object: 'total_count', total_count: 4 });

      stop.abort();
      await running;
      await expect(fetch(pageUrl!)).rejects.toThrow();
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});
