import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { clerkRateLimited, salesforceFault, slackFault } from '@clerk-sync/sandbox';
import { Redeliverer, type DeliveryStats } from '../test/helpers/redeliverer';
import { freePort, workerEnv, type Bench } from './stack';

// The inline handler under the fault runs of `npm run test:faults` that apply to it (it has no Temporal and no
// separate worker): its process killed with SIGKILL mid-stream, and a Salesforce 503 / Clerk and Slack 429 storm. Same
// Svix-like redeliverer, same checks: every user's Contact as Clerk has it, one welcome email each.

/** One fault run's counts, comparable with test-output/faults-report.json's. */
export interface InlineFaultRun extends DeliveryStats {
  users: number;
  duplicateEmails: number;
  missingEmails: number;
  wrongRecords: number;
  processStarts: number;
  faultedCalls?: number;
}

/** The inline handler's process, restartable. */
class InlineProcess {
  starts = 0;
  private child: ChildProcess | undefined;

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    this.starts += 1;
    const child = spawn(process.execPath, [join(__dirname, 'inline-process.js')], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('inline listening')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`inline handler exited with ${code} before listening`)));
    });
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/** Sign-ups then profile updates: what the inline handler handles (it ignores membership events). */
function signUpsAndUpdates(bench: Bench, users: number): { events: ClerkEvent[][]; ids: string[] } {
  const clerk = bench.sandbox.services.clerk;
  const events: ClerkEvent[][] = [];
  const ids: string[] = [];
  for (let i = 0; i < users; i++) {
    const created = clerk.createUser({
      firstName: 'Fault',
      lastName: `User${i}`,
      emailAddress: [`fault.${randomUUID()}@example.com`],
    });
    const id = (created.data as { id: string }).id;
    ids.push(id);
    events.push([created, clerk.updateUser(id, { lastName: `Renamed${i}` })]);
  }
  return { events, ids };
}

/** Every user's Contact as Clerk has it now, and the welcome emails they got. */
function verify(bench: Bench, ids: string[]) {
  const clerk = bench.sandbox.services.clerk.store;
  const contacts = new Map(
    bench.sandbox.services.salesforce.records('Contact').map((c) => [c.Clerk_User_Id__c as string, c]),
  );
  const emails = bench.sandbox.services.resend.emails();
  let wrongRecords = 0;
  let duplicateEmails = 0;
  let missingEmails = 0;
  for (const id of ids) {
    const user = clerk.getUser(id);
    const primary = user.email_addresses.find((e) => e.id === user.primary_email_address_id)!.email_address;
    const contact = contacts.get(id);
    if (!contact || contact.LastName !== user.last_name || contact.Email !== primary) wrongRecords += 1;
    const sent = emails.filter((e) => e.to.includes(primary)).length;
    if (sent > 1) duplicateEmails += sent - 1;
    if (sent === 0) missingEmails += 1;
  }
  return { wrongRecords, duplicateEmails, missingEmails };
}

/** One run: a fresh process and sandbox, the stream (users side by side, in order per user), then the checks. */
async function faultRun(
  bench: Bench,
  users: number,
  inject: (p: InlineProcess, acked: number) => void,
): Promise<InlineFaultRun> {
  bench.sandbox.reset();
  bench.sandbox.services.salesforce.setDailyApiLimit(1e9);
  const port = await freePort();
  const proc = new InlineProcess({ ...workerEnv(bench, 'unused:7233', 'unused'), PORT: String(port) });
  await proc.start();
  const redeliverer = new Redeliverer(`http://127.0.0.1:${port}/webhooks/clerk`, bench.secret);
  const { events, ids } = signUpsAndUpdates(bench, users);
  const total = events.length * 2;
  try {
    await Promise.all(
      events.map(async (perUser, i) => {
        await sleep(i * 150); // the fault suite's steady trickle
        for (const event of perUser) {
          await redeliverer.deliver(event);
          inject(proc, redeliverer.acked.length / total);
        }
      }),
    );
  } finally {
    await proc.stop();
  }
  return { users, ...redeliverer.stats, ...verify(bench, ids), processStarts: proc.starts };
}

/** The inline handler's fault runs: SIGKILL once mid-stream (restarted), and a 30% Salesforce 503 / Clerk and Slack 429 storm. */
export async function inlineFaultRuns(bench: Bench): Promise<Record<string, InlineFaultRun>> {
  const { users, stormMs } = bench.settings.inline.faults;
  let killed = false;
  const kill = await faultRun(bench, users, (p, share) => {
    if (killed || share < 0.4) return;
    killed = true;
    p.kill();
    void p.start();
  });
  bench.note(`inline faults: SIGKILL run done (${kill.duplicateEmails} duplicate emails)`);

  let storm: { sf: string; clerk: string; slack: string } | undefined;
  const stormRun = await faultRun(bench, users, () => {
    if (storm) return;
    const until = Date.now() + stormMs;
    storm = {
      sf: bench.sandbox.faults.add({ ...salesforceFault('SERVER_UNAVAILABLE', { probability: 0.3 }), until }),
      clerk: bench.sandbox.faults.add({ ...clerkRateLimited(1, { probability: 0.3 }), until }),
      slack: bench.sandbox.faults.add({ ...slackFault('rate_limited', { probability: 0.3 }), until }),
    };
  });
  const faultedCalls = bench.sandbox
    .calls()
    .filter((c) => [storm?.sf, storm?.clerk, storm?.slack].includes(c.faultId)).length;
  bench.sandbox.faults.clear();
  bench.note(`inline faults: storm run done (${stormRun.duplicateEmails} duplicate emails)`);
  return {
    'process SIGKILL mid-stream': kill,
    'Salesforce 503 storm + Clerk 429 + Slack 429': { ...stormRun, faultedCalls },
  };
}
