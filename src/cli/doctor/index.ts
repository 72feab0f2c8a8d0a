import pino from 'pino';
import { ConfigError, loadConfig, readEnv, type Config } from '../../config';
import type { Logger } from '../../logger';
import { withLocalKeys } from '../../local/state';
import { codecCheck } from './codec';
import { keyChecks } from './keys';
import { salesforceChecks } from './salesforce';
import { clerkCheck, resendCheck, slackCheck } from './services';
import { temporalChecks } from './temporal';
import { formatReport, reportOf, summaryLine, type CheckResult, type DoctorReport } from './report';
import { withLocalSandbox } from '../local-sandbox';

// `clerk-sync doctor` (issue 14): is everything wired up? One line per check, with the same configuration the api
// and the worker read, and an exit code for scripts.

export type { CheckResult, DoctorReport } from './report';

/** Options of `clerk-sync doctor`. */
export interface DoctorOptions {
  /** Post one message to the Slack webhook (otherwise only its shape is checked). */
  postTest?: boolean;
  /** The codec server to check (default: the API on this machine, `http://127.0.0.1:$PORT/codec`). */
  codecUrl?: string;
}

/**
 * Runs every check against `env` (default: the process environment over `.env`): the configuration first (nothing
 * else runs without it), then every system side by side. Never throws: a failure is a line of the report.
 */
export async function runDoctor(
  env: Record<string, string | undefined> | Config,
  options: DoctorOptions = {},
  logger: Logger = pino({ level: 'silent' }),
): Promise<DoctorReport> {
  const started = Date.now();
  let config: Config;
  try {
    config = isConfig(env) ? env : loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const result: CheckResult = {
      id: 'config',
      name: 'Configuration',
      status: 'fail',
      detail: err.problems.join('; '),
      fix: 'fix these variables (.env.example documents each); the other checks need them',
      ms: Date.now() - started,
    };
    return reportOf([result], Date.now() - started);
  }
  const configured: CheckResult = {
    id: 'config',
    name: 'Configuration',
    status: 'ok',
    detail: `parses (Temporal ${config.temporal.address}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
    ms: Date.now() - started,
  };
  const groups = await Promise.all([
    Promise.all(keyChecks(config)),
    temporalChecks(config),
    salesforceChecks(config, logger),
    clerkCheck(config).then((r) => [r]),
    resendCheck(config).then((r) => [r]),
    slackCheck(config, options.postTest === true).then((r) => [r]),
    codecCheck(config, options.codecUrl).then((r) => [r]),
  ]);
  return reportOf([configured, ...groups.flat()], Date.now() - started);
}

const isConfig = (value: object): value is Config => 'temporal' in value && 'signingSecrets' in value;

/** `clerk-sync doctor [--json] [--post-test] [--codec-url <url>] [--sandbox <url>]`: prints the report; 1 if a check failed. */
export async function doctorCommand(
  opts: DoctorOptions & { json?: boolean; sandbox?: string; env?: Record<string, string | undefined> },
  out: (line: string) => void = (line) => void process.stdout.write(`${line}\n`),
): Promise<number> {
  const local = await withLocalSandbox(opts.env ?? withLocalKeys(readEnv()), { url: opts.sandbox });
  const report = await runDoctor(local.env, opts);
  if (opts.json) {
    out(JSON.stringify({ ...report, ...(local.sandbox && { sandbox: local.sandbox }) }, null, 2));
  } else {
    if (local.sandbox) out(`(services without credentials: the local sandbox at ${local.sandbox})`);
    for (const line of formatReport(report)) out(line);
  }
  return report.ok ? 0 : 1;
}

/**
 * `npm start` runs doctor once the worker polls, and prints the summary, with the failed and warned lines in full.
 * It never throws and never stops local mode: a problem is a line to read.
 */
export async function startupDoctor(config: Config, out: (line: string) => void): Promise<void> {
  try {
    let report = await runDoctor(config);
    // The worker starts polling a moment after it was created: ask again once before calling it missing.
    if (report.checks.some((c) => c.id.startsWith('temporal.pollers.') && c.status === 'fail')) {
      await new Promise((r) => setTimeout(r, 3_000));
      report = await runDoctor(config);
    }
    const notable = formatReport(report).filter((_, i) => {
      const c = report.checks[i];
      return c !== undefined && (c.status === 'fail' || c.status === 'warn');
    });
    out(`${summaryLine(report)}${report.ok ? '' : ': `npx clerk-sync doctor` for every line'}`);
    for (const line of notable) out(`  ${line}`);
  } catch (err) {
    out(`doctor: could not run (${err instanceof Error ? err.message : String(err)})`);
  }
}
