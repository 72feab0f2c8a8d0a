import { join } from 'node:path';
import { deliverWebhook, newSvixId } from '@clerk-sync/sandbox';
import { notifierWorkflowId } from '../src/shared/notices';
import { notifierActions } from './actions';
import { cpuMeter } from './cpu';
import { describeTimeline, noticeTimeline, type NoticeTimeline } from './notice-timeline';
import { contactsCreated, prepareSandbox, signUps } from './e2e';
import { RUN_DIR } from './paths';
import { startProduct, startTemporal, waitFor, type Bench } from './stack';
import { latency, median, mostWithin, round, type Latency } from './stats';

/** One burst: its notices' delays (Contact written → its line in a Slack message) and the messages' pace. */
export interface NoticeRound {
  signUps: number;
  /** Deliveries the API did not accept at once (503: its 5 s start deadline), sent again as Svix would. */
  redelivered: number;
  /** Sign-ups whose notice line reached Slack before the deadline. */
  noticed: number;
  /** Lines that named a user twice or more (a notice posted twice). */
  duplicates: number;
  delay: Latency & { max: number };
  messages: number;
  /** The most messages Slack received in any 10 s (sliding window). */
  maxMessagesPer10s: number;
  /** Signals the notifier received (each carries one worker's notices of a moment), and its own actions. */
  notifier: { signals: number; actions: number };
  /** Where the delay goes: its segments, and how long the notifier's steps waited on the server. */
  timeline?: NoticeTimeline;
  incomplete?: boolean;
  cpuCores?: Record<string, number>;
}

/** What the notices section reports: every burst, and the medians over them (the max of the message pace). */
export interface NoticesReport {
  signUps: number;
  rounds: NoticeRound[];
  median: { p50: number; p99: number };
  maxMessagesPer10s: number;
  target: { p99Ms: 5_000; messagesPer10s: 12 };
}

/** Sign-ups posted at once to the product (workers in their own process, durable server, zero latency, notifier running). */
async function noticeRound(bench: Bench, rep: number): Promise<NoticeRound> {
  const { signUps: n, deadlineMs } = bench.settings.notices;
  const t = await startTemporal({ dbFilename: join(RUN_DIR, 'notices-temporal.db') });
  prepareSandbox(bench, undefined);
  const events = signUps(bench, n);
  const users = new Set(events.map((e) => (e.data as { id: string }).id));
  const api = await startProduct(bench, t, `notices-${rep}`);
  const cpu = cpuMeter({
    temporal: t.pid,
    worker: bench.host.pid,
    'api+sandbox': process.pid,
    sender: bench.generator.pid,
  });
  const slack = bench.sandbox.services.slack;
  /** Each user's notice lines, with when their message arrived. */
  const lines = () =>
    slack.messages().flatMap((m) =>
      (m.text ?? '').split('\n').flatMap((line) => {
        const userId = /^New sign-up: .* \((user_[^)]+)\)/.exec(line)?.[1];
        return userId && users.has(userId) ? [{ userId, at: m.at }] : [];
      }),
    );
  try {
    // The notifier runs before the burst, as in any deployment past its first notice ever (a fresh task queue's
    // first notice also starts it: that costs the first notices a few seconds once).
    const [warmUp] = signUps(bench, 1);
    await deliverWebhook(api.url, bench.secret, warmUp);
    const firstUser = (warmUp!.data as { id: string }).id;
    await waitFor(
      () => (slack.messages().some((m) => m.text?.includes(firstUser)) ? true : undefined),
      60_000,
    );
    // A delivery not answered 2xx is sent again with its svix-id and body, as Svix does: a 503 at the start
    // deadline may come after Temporal accepted the start, and a fresh id would then sync (and notify) twice.
    let pending = events.map((e) => ({ svixId: newSvixId(), body: JSON.stringify(e) }));
    let redelivered = 0;
    for (let attempt = 0; attempt < 10 && pending.length > 0; attempt++) {
      redelivered += attempt > 0 ? pending.length : 0;
      const burst = await bench.generator.run({
        kind: 'burst',
        url: api.url,
        secret: bench.secret,
        source: { kind: 'bodies' },
        bodies: pending.map((d) => d.body),
        svixIds: pending.map((d) => d.svixId),
        count: pending.length,
        concurrency: pending.length, // all at once
        timeoutMs: 15_000,
      });
      pending = pending.filter((_, i) => !(burst.status[i]! >= 200 && burst.status[i]! < 300));
    }
    const done = await waitFor(() => {
      const found = lines();
      return new Set(found.map((l) => l.userId)).size >= n ? found : undefined;
    }, deadlineMs);
    const found = done ?? lines();
    const created = contactsCreated(bench, users);
    const first = new Map<string, number>();
    for (const l of found) if (!first.has(l.userId)) first.set(l.userId, l.at);
    const delays = [...first].map(([userId, at]) => at - created.get(userId)!).filter(Number.isFinite);
    const times = slack.messages().map((m) => m.at);
    const own = await notifierActions(t.client, notifierWorkflowId(api.taskQueue));
    const timeline = await noticeTimeline(t.client, notifierWorkflowId(api.taskQueue), created, first);
    return {
      signUps: n,
      redelivered,
      noticed: first.size,
      duplicates: found.length - first.size,
      delay: { ...latency(delays), max: Math.max(...delays) },
      messages: times.length,
      maxMessagesPer10s: mostWithin(times, 10_000),
      notifier: { signals: own.signalsReceived, actions: own.actions.total },
      timeline,
      ...(done === undefined && { incomplete: true }),
      cpuCores: cpu(),
    };
  } finally {
    await api.close();
    await t.close();
  }
}

/**
 * Notices (issue 13): bursts of sign-ups posted at once; how long after its Contact's write each notice reached
 * Slack, and the most messages Slack received in any 10 s.
 */
export async function noticesSection(bench: Bench): Promise<NoticesReport> {
  const rounds: NoticeRound[] = [];
  for (let rep = 0; rep < bench.settings.notices.reps; rep++) {
    const r = await noticeRound(bench, rep);
    rounds.push(r);
    bench.note(
      `notices rep ${rep + 1}: ${r.noticed}/${r.signUps} noticed (${r.redelivered} redelivered after a 503) (${r.duplicates} twice), delay p50 ${r.delay.p50} ` +
        `p99 ${r.delay.p99} max ${r.delay.max} ms; ${r.messages} messages, at most ${r.maxMessagesPer10s} in 10 s; ` +
        `notifier: ${r.notifier.signals} signals, ${r.notifier.actions} actions of its own` +
        `${r.incomplete ? ' (deadline)' : ''}`,
    );
    if (r.timeline) bench.note(`notices rep ${rep + 1}: ${describeTimeline(r.timeline)}`);
  }
  return {
    signUps: bench.settings.notices.signUps,
    rounds,
    median: {
      p50: round(median(rounds.map((r) => r.delay.p50))),
      p99: round(median(rounds.map((r) => r.delay.p99))),
    },
    maxMessagesPer10s: Math.max(...rounds.map((r) => r.maxMessagesPer10s)),
    target: { p99Ms: 5_000, messagesPer10s: 12 },
  };
}
