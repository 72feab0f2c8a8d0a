import { UsageError } from '../cli/usage-error';
import { loadConfig, readEnv } from '../config';
import { deliverWebhook, newSvixId } from '@clerk-sync/sandbox';
import { SCENARIOS } from '@clerk-sync/sandbox';
import { fixtureTypes, loadFixture } from './fixtures';
import { existingLocalSecret } from './state';

/**
 * `clerk-sync send-sample [scenario | event type]`. A scenario (default `join-org`) runs in the local sandbox, which
 * changes its Clerk data and delivers the signed webhooks Clerk would send. An event type signs that sample event
 * (fresh svix-id) with the local secret and POSTs it to the API.
 */
export async function sendSample(what: string, opts: { url?: string; sandbox: string }): Promise<void> {
  if (Object.hasOwn(SCENARIOS, what)) {
    const res = await fetch(`${opts.sandbox}/_sandbox/scenarios/${what}`, { method: 'POST' }).catch(
      () => undefined,
    );
    if (!res)
      throw new UsageError(
        `No sandbox at ${opts.sandbox}: is \`npm start\` running? (or pass an event type: ${fixtureTypes().join(', ')})`,
      );
    const deliveries = (await res.json()) as
      { svixId: string; type: string; status: number; body: unknown }[] | { error: string };
    if (!Array.isArray(deliveries)) throw new UsageError(deliveries.error);
    for (const d of deliveries)
      process.stdout.write(`${d.type} → HTTP ${d.status} ${JSON.stringify(d.body)}\n`);
    process.stdout.write(`Records: ${opts.sandbox}/\n`);
    if (deliveries.some((d) => d.status >= 300)) process.exitCode = 1;
    return;
  }
  if (!fixtureTypes().includes(what)) {
    throw new UsageError(
      `Unknown sample "${what}": a scenario (${Object.keys(SCENARIOS).join(', ')}) or an event type (${fixtureTypes().join(', ')})`,
    );
  }
  const config = loadConfig(readEnv());
  const secret = config.signingSecrets[0] ?? existingLocalSecret();
  if (!secret) {
    throw new UsageError(
      'No signing secret: set CLERK_WEBHOOK_SIGNING_SECRET, or run `npm start` once to generate one',
    );
  }
  const event = loadFixture(what);
  const url = opts.url ?? `http://localhost:${config.port}/webhooks/clerk`;
  const result = await deliverWebhook(
    url,
    secret,
    { ...event, timestamp: Date.now() },
    { svixId: newSvixId() },
  );
  process.stdout.write(`${what} → ${url}: HTTP ${result.status} ${JSON.stringify(result.body)}\n`);
  if (result.status >= 300) process.exitCode = 1;
}
