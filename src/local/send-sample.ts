import { loadConfig, readEnv } from '../config';
import { deliverWebhook, newSvixId } from '../sandbox/deliver';
import { loadFixture } from './fixtures';
import { existingLocalSecret } from './state';

/** `clerk-sync send-sample [type]`: signs a sample event (fresh ids) with the local secret and POSTs it. */
export async function sendSample(type: string, opts: { url?: string }): Promise<void> {
  const config = loadConfig(readEnv());
  const secret = config.signingSecrets[0] ?? existingLocalSecret();
  if (!secret) {
    throw new Error(
      'No signing secret: set CLERK_WEBHOOK_SIGNING_SECRET, or run `npm start` once to generate one',
    );
  }
  const event = loadFixture(type);
  const url = opts.url ?? `http://localhost:${config.port}/webhooks/clerk`;
  const result = await deliverWebhook(
    url,
    secret,
    { ...event, timestamp: Date.now() },
    { svixId: newSvixId() },
  );
  process.stdout.write(`${type} → ${url}: HTTP ${result.status} ${JSON.stringify(result.body)}\n`);
  if (result.status >= 300) process.exitCode = 1;
}
