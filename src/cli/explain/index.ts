import { createClerkClient } from '@clerk/backend';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import pino from 'pino';
import { boundedClerkClient, salesforceSession, SYNC_SALESFORCE_TIMEOUTS } from '../../clients';
import { ConfigError, loadConfig, readEnv, type Config } from '../../config';
import { withLocalKeys } from '../../local/state';
import { connectTemporal } from '../../temporal';
import { CLERK_REQUEST_TIMEOUT_MS } from '../../timeouts';
import { readClerk, readSalesforce, readWorkflows, type Facts, type Subject } from './facts';
import { explain, type Explanation } from './plan';
import { withLocalSandbox } from '../local-sandbox';

// `clerk-sync explain (--user user_… | --organization org_…)` (issue 14): why a user or organization is not in
// Salesforce as Clerk says. Reads Clerk, Salesforce and Temporal (nothing is written), then plan.ts decides.

export type { Explanation } from './plan';

/** Reads the three systems for `subject` with `config`'s credentials and `client` (decoding with its key). */
export async function gatherFacts(config: Config, client: Client, subject: Subject): Promise<Facts> {
  const problems = [
    !config.clerk && 'CLERK_SECRET_KEY: required by `explain` to read Clerk',
    !config.salesforce &&
      'SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: required by `explain` to read Salesforce (or SALESFORCE_INSTANCE_URL with SALESFORCE_ACCESS_TOKEN)',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new ConfigError(problems);
  const clerk = boundedClerkClient(
    createClerkClient({ secretKey: config.clerk!.secretKey, apiUrl: config.clerk!.apiUrl }),
    CLERK_REQUEST_TIMEOUT_MS,
  );
  const session = salesforceSession(config.salesforce!, pino({ level: 'silent' }), SYNC_SALESFORCE_TIMEOUTS);
  const [clerkFacts, salesforce, workflows] = await Promise.all([
    readClerk(clerk, subject),
    session.connection().then((conn) => readSalesforce(conn, subject)),
    readWorkflows(client, subject),
  ]);
  return { subject, clerk: clerkFacts, salesforce, workflows };
}

/** The explanation as text: both sides, each difference with why and what to do, then the workflows. */
export function formatExplanation(e: Explanation): string[] {
  const lines = [
    `explain ${e.subject.kind} ${e.subject.id}`,
    `  Clerk:      ${e.clerk}`,
    `  Salesforce: ${e.salesforce}`,
    '',
  ];
  if (e.inSync) lines.push('In sync: Salesforce holds what Clerk says.');
  else lines.push(`Differences (${e.differences.length}):`);
  for (const d of e.differences) {
    const field = d.what === 'missing' || d.what === 'extra' ? `${d.what} in Salesforce` : d.what;
    lines.push(`  ✗ ${d.record} ${d.id}: ${field}`);
    if (d.what !== 'missing' && d.what !== 'extra') {
      lines.push(`      Clerk says ${show(d.clerk)}; Salesforce has ${show(d.salesforce)}`);
    } else if (d.what === 'missing') {
      lines.push(`      Clerk says ${show(d.clerk)}`);
    }
    lines.push(`      why: ${d.why}`);
    lines.push(`      do:  ${d.todo}`);
  }
  lines.push(
    '',
    e.workflows.length > 0 ? 'Workflows (newest first):' : 'Workflows: none in Temporal for this id.',
  );
  for (const w of e.workflows) {
    const outcome = w.failure
      ? `${w.failure.type}: ${w.failure.message}`
      : w.pending
        ? `${w.pending.activity} attempt ${w.pending.attempt}: ${w.pending.type}: ${w.pending.message}`
        : '';
    lines.push(
      `  ${w.startTime}  ${w.workflowId}  ${w.type}  ${w.eventType ?? '-'}  ${w.status}${outcome ? `  ${outcome}` : ''}`,
    );
  }
  return lines;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => `${k} ${v === null ? 'none' : JSON.stringify(v)}`)
      .join(', ');
  }
  return JSON.stringify(value) ?? String(typeof value);
}

/** The subject named by `--user` or `--organization` (exactly one); a usage error otherwise. */
export function parseSubject(opts: { user?: string; organization?: string }): Subject | string {
  if ((opts.user === undefined) === (opts.organization === undefined))
    return 'give --user user_… or --organization org_…';
  if (opts.user !== undefined) {
    return /^user_[A-Za-z0-9]+$/.test(opts.user)
      ? { kind: 'user', id: opts.user }
      : `--user ${opts.user}: not a Clerk user id (user_…)`;
  }
  const org = opts.organization!;
  return /^org_[A-Za-z0-9]+$/.test(org)
    ? { kind: 'organization', id: org }
    : `--organization ${org}: not a Clerk organization id (org_…)`;
}

/** Runs `clerk-sync explain` for bin.ts; exit code 0 when in sync, 1 when anything differs. */
export async function explainCommand(
  opts: { user?: string; organization?: string; json?: boolean; sandbox?: string },
  command: Command,
  out: (line: string) => void = (line) => void process.stdout.write(`${line}\n`),
): Promise<number> {
  const subject = parseSubject(opts);
  if (typeof subject === 'string')
    command.error(`error: ${subject}`, { exitCode: 1, code: 'clerk-sync.usage' });
  const local = await withLocalSandbox(withLocalKeys(readEnv()), { url: opts.sandbox });
  const config = loadConfig(local.env);
  const { client, connection } = await connectTemporal(config);
  try {
    const explanation = explain(await gatherFacts(config, client, subject));
    if (opts.json) out(JSON.stringify(explanation, null, 2));
    else for (const line of formatExplanation(explanation)) out(line);
    return explanation.inSync ? 0 : 1;
  } finally {
    await connection.close();
  }
}
