import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createSandbox } from '@clerk-sync/sandbox';
import { UsageError } from './usage-error';

/** Options of `clerk-sync sandbox`. */
export interface SandboxCommandOptions {
  /** Port to listen on; 0 or absent picks a free one (the printed environment names it). */
  port?: number;
  /** Clerk seed file; default fixtures/clerk-seed.json. */
  seed?: string;
  /** Salesforce stand-in in strict mode. */
  strict?: boolean;
  /** Where the sandbox's Clerk delivers the webhooks of its mutations (default: the API on PORT or 3000). */
  webhookUrl?: string;
  /** Stops the sandbox like SIGINT does (for embedding and tests). */
  signal?: AbortSignal;
}

/**
 * `clerk-sync sandbox`: runs the local sandbox until SIGINT/SIGTERM. Prints on stdout, one `NAME=value` per line
 * (so `… > .env` or `eval` works), everything an API and a worker need to run against it: the services' URLs and
 * credentials, a sender, and a webhook signing secret its Clerk signs with (made up per run); the page URL on stderr.
 */
export async function runSandboxCommand(opts: SandboxCommandOptions = {}): Promise<void> {
  if (opts.seed !== undefined && !existsSync(opts.seed)) throw new UsageError(`--seed: no file ${opts.seed}`);
  const signingSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const sandbox = await createSandbox({
    port: opts.port ?? 0,
    webhook: {
      url: opts.webhookUrl ?? `http://localhost:${process.env.PORT ?? '3000'}/webhooks/clerk`,
      secret: signingSecret,
    },
    ...(opts.seed !== undefined && { seed: opts.seed }),
    ...(opts.strict !== undefined && { salesforce: { strict: opts.strict } }),
  });
  process.stdout.write(
    Object.entries({ ...sandbox.env, CLERK_WEBHOOK_SIGNING_SECRET: signingSecret })
      .map(([name, value]) => `${name}=${value}\n`)
      .join(''),
  );
  process.stderr.write(`clerk-sync sandbox: open ${sandbox.url}/ (Ctrl-C stops it)\n`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      opts.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', stop, { once: true });
  });
  await sandbox.close();
}
