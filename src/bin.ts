#!/usr/bin/env node
import { inspect } from 'node:util';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { UsageError } from './cli/usage-error';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';

/** Positive integer option parser that answers with a usage error instead of a stack trace. */
function portOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number');
  return n;
}

/**
 * Runs a sub-command. A configuration error (exit 2) or a usage error (exit 1) is its message alone: the person at
 * the command line fixes it from that. Anything else (a gRPC failure in `worker`, a bug) is printed with its stack.
 */
/** Packages only local mode uses: dev dependencies, absent from the production image (see the Dockerfile). */
const LOCAL_MODE_PACKAGES = ['@clerk-sync/sandbox', '@temporalio/testing'];

/** Loads a local-mode module, or says plainly why it cannot run here (a production install has no sandbox). */
async function localMode<T>(load: () => Promise<T>, command: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const missing = LOCAL_MODE_PACKAGES.find(
      (name) =>
        (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String(err).includes(`'${name}'`),
    );
    if (missing === undefined) throw err;
    throw new UsageError(
      `clerk-sync ${command} is local mode and needs ${missing}, a development package this install leaves out ` +
        '(the production image has only the api and worker): run it from a clone after `npm install`.',
    );
  }
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof UsageError || err instanceof CommanderError) {
        process.stderr.write(`clerk-sync: ${err.message}\n`);
        process.exit(err instanceof ConfigError ? 2 : 1);
      }
      throw err;
    }
  };
}

const program = new Command('clerk-sync')
  .description(
    'Keeps Salesforce in step with Clerk: signed Clerk webhooks become durable Temporal workflows.',
  )
  .showHelpAfterError();

program
  .command('api')
  .description(
    'run the HTTP API (POST /webhooks/clerk, /healthz, /readyz, /metrics) against TEMPORAL_ADDRESS',
  )
  .action(
    action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const { startApi } = await import('./api/main');
      const api = await startApi(config, logger);
      const stop = () => void api.close().then(() => process.exit(0));
      process.once('SIGINT', stop).once('SIGTERM', stop);
    }),
  );

program
  .command('worker')
  .description('run a worker that executes the sync workflows and activities (start more to scale out)')
  .action(
    action(async () => {
      const config = loadConfig();
      const { runWorker } = await import('./worker');
      await runWorker(config, createLogger(config.logLevel));
    }),
  );

program
  .command('temporal-setup')
  .description(
    'register the custom search attributes in TEMPORAL_NAMESPACE (idempotent; the worker also does it)',
  )
  .action(
    action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const { registerSearchAttributes } = await import('./temporal');
      const added = await registerSearchAttributes(config, logger);
      process.stdout.write(
        added.length ? `registered: ${added.join(', ')}\n` : 'search attributes already registered\n',
      );
    }),
  );

program
  .command('dev')
  .description(
    'local mode (npm start): Temporal dev server with its Web UI, the sandbox, the worker and the API',
  )
  .option('--port <port>', 'API port (default PORT or 3000)', portOption)
  .option('--temporal-port <port>', 'Temporal gRPC port', portOption, 7233)
  .option('--ui-port <port>', 'Temporal Web UI port', portOption, 8233)
  .option('--sandbox-port <port>', 'sandbox port', portOption, 4010)
  .action(
    action(async (opts: { port?: number; temporalPort: number; uiPort: number; sandboxPort: number }) => {
      const { runDev } = await localMode(() => import('./local/dev'), 'dev');
      await runDev(opts);
    }),
  );

program
  .command('sandbox')
  .description(
    'run the local Salesforce/Clerk/Resend/Slack sandbox alone and print the environment that points at it',
  )
  .option('--port <port>', 'port to listen on', portOption, 4010)
  .option('--seed <file>', 'Clerk seed data (JSON)')
  .option('--strict', 'Salesforce custom fields exist only once `salesforce setup` created them')
  .action(
    action(async (opts: { port: number; seed?: string; strict?: boolean }) => {
      const { runSandboxCommand } = await localMode(() => import('./cli/sandbox'), 'sandbox');
      await runSandboxCommand(opts);
    }),
  );

program
  .command('send-sample')
  .description(
    'local mode: run a Clerk scenario in the sandbox (default join-org), or sign and POST a sample event',
  )
  .argument(
    '[scenario-or-type]',
    'sign-up, join-org, role-change, leave-org, delete-user, org-rename, org-deleted, or an event type',
    'join-org',
  )
  .option('--url <url>', 'webhook endpoint for a sample event (default http://localhost:PORT/webhooks/clerk)')
  .option('--sandbox <url>', 'the local sandbox', 'http://localhost:4010')
  .action(
    action(async (what: string, opts: { url?: string; sandbox: string }) => {
      const { sendSample } = await localMode(() => import('./local/send-sample'), 'send-sample');
      await sendSample(what, opts);
    }),
  );

program
  .command('replay')
  .description('re-run failed, timed-out or terminated syncs with their original input, under the same id')
  .argument('[workflow-id...]', 'the workflows to replay (or --failed)')
  .option('--failed', 'every failed sync that has not run again since')
  .option('--since <duration>', 'with --failed: started within 30m, 24h, 7d… (default 24h)')
  .option('--type <event-type>', 'with --failed: only this Clerk event type, e.g. user.created')
  .option('--user <user-id>', 'with --failed: only syncs of this Clerk user')
  .option('--dry-run', 'print what would be replayed; start nothing')
  .action(
    action(
      async (
        ids: string[],
        opts: { failed?: boolean; since?: string; type?: string; user?: string; dryRun?: boolean },
        command: Command,
      ) => {
        // Its arguments are checked there, so that only this command loads the Temporal client.
        const { runReplayCommand } = await import('./cli/replay');
        process.exitCode = await runReplayCommand(ids, opts, command);
      },
    ),
  );

program
  .command('salesforce')
  .description('Salesforce org tools')
  .command('setup')
  .description(
    'create or update the custom object, fields and permission set of force-app/ in the configured org (idempotent)',
  )
  .option('--check', 'only report what is missing or different; exit 1 if anything is')
  .action(
    action(async (opts: { check?: boolean }) => {
      const { salesforceSetupCommand } = await import('./cli/salesforce-setup');
      process.exitCode = await salesforceSetupCommand(opts);
    }),
  );

program
  .command('backfill')
  .description(
    'import every Clerk organization, user and membership into Salesforce (idempotent), with progress',
  )
  .option('--dry-run', 'count what would change; write nothing')
  .option('--page-size <n>', 'records per page, 1-200 (default 200)', Number)
  .option('--pages-per-run <n>', 'pages before the workflow continues as new (default 50)', Number)
  .option(
    '--schedule <interval>',
    'instead: run it every <interval> (6h, 1d…) as the Schedule clerk-sync-reconcile',
  )
  .option('--unschedule', 'instead: delete the Schedule clerk-sync-reconcile')
  .action(
    action(
      async (opts: {
        dryRun?: boolean;
        pageSize?: number;
        pagesPerRun?: number;
        schedule?: string;
        unschedule?: boolean;
      }) => {
        const { runBackfillCommand } = await import('./cli/backfill');
        process.exitCode = await runBackfillCommand(opts);
      },
    ),
  );

program
  .command('doctor')
  .description(
    'check the configuration, Temporal, Salesforce, Clerk, Resend, Slack and the keys; exit 1 if a check fails',
  )
  .option('--json', 'print the report as JSON')
  .option('--post-test', 'post a test message to the Slack webhook (otherwise only its shape is checked)')
  .option('--codec-url <url>', 'the codec server to check (default: the API on this machine)')
  .option(
    '--sandbox <url>',
    'local mode: the sandbox that services without credentials use',
    'http://localhost:4010',
  )
  .action(
    action(async (opts: { json?: boolean; postTest?: boolean; codecUrl?: string; sandbox: string }) => {
      const { doctorCommand } = await import('./cli/doctor');
      process.exitCode = await doctorCommand(opts);
    }),
  );

program
  .command('explain')
  .description(
    'why a user or organization is not in Salesforce as Clerk says: differences, their workflows, what to do',
  )
  .option('--user <user-id>', 'a Clerk user (user_…)')
  .option('--organization <org-id>', 'a Clerk organization (org_…)')
  .option('--json', 'print the explanation as JSON')
  .option(
    '--sandbox <url>',
    'local mode: the sandbox that services without credentials use',
    'http://localhost:4010',
  )
  .action(
    action(
      async (
        opts: { user?: string; organization?: string; json?: boolean; sandbox: string },
        command: Command,
      ) => {
        const { explainCommand } = await import('./cli/explain');
        process.exitCode = await explainCommand(opts, command);
      },
    ),
  );

// As Node prints an uncaught error: the stack, the causes' (a gRPC failure wrapped by the SDK) and their fields.
program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`clerk-sync: ${inspect(err)}\n`);
  process.exit(1);
});
