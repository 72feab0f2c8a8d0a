import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'svix';
import { newSvixId } from '@clerk-sync/sandbox';
import { ChildRpc } from './child-rpc';
import { probe, runAll, runAtRate, type Outcome, type Step } from './pacing';

// The sender runs in a process of its own, so that signing and sending do not share an event loop with the
// endpoint under test. Every delivery is signed when it leaves, with a fresh svix-id (or, for a duplicate or a
// redelivery, the svix-id and body of an earlier one, re-signed as Svix does when it retries).

/** Where bodies come from: a template whose `__UID__` becomes a fresh user id, or given bodies in order. */
export type Source = { kind: 'template'; template: string } | { kind: 'pool' } | { kind: 'bodies' };

interface Target {
  url: string;
  secret: string;
  source: Source;
  timeoutMs: number;
}

/** The jobs the sender runs. */
export type Job =
  | { kind: 'pool'; bodies: string[] }
  | (Target & { kind: 'probe'; concurrency: number; durationMs: number })
  | (Target & { kind: 'rate'; rate: number; durationMs: number; duplicateRate: number })
  | (Target & {
      kind: 'burst';
      bodies?: string[];
      /** The svix-id of each given body (a redelivery keeps its message's id, as Svix does); none: fresh ids. */
      svixIds?: string[];
      count: number;
      concurrency: number;
    });

/** One delivery of a burst: when it left (epoch ms), how long the answer took, and the answer. */
export interface BurstResult {
  /** The user id of a template body; the index of a given body otherwise. */
  keys: string[];
  sentAt: number[];
  latencyMs: number[];
  status: number[];
}

/** A placeholder in a template body. */
export const UID = '__UID__';

const epochMs = () => performance.timeOrigin + performance.now();

function child(): void {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const signers = new Map<string, Webhook>();
  let pool: string[] = [];
  let poolNext = 0;

  const signer = (secret: string) => {
    let wh = signers.get(secret);
    if (!wh) signers.set(secret, (wh = new Webhook(secret)));
    return wh;
  };

  /** Signs now and POSTs; resolves with the status code. */
  const post = (t: Target, svixId: string, body: string): Promise<number> => {
    const url = new URL(t.url);
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'svix-id': svixId,
      'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
      'svix-signature': signer(t.secret).sign(svixId, now, body),
    };
    return new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.setTimeout(t.timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  };

  let counter = 0;
  const nextBody = (source: Source, given?: string[], i = 0): { key: string; body: string } => {
    if (source.kind === 'template') {
      const uid = `user_bench${(counter++).toString(36)}${randomBytes(6).toString('hex')}`;
      return { key: uid, body: source.template.replaceAll(UID, uid) };
    }
    if (source.kind === 'pool') {
      if (pool.length === 0) throw new Error('no pool: send a pool job first');
      const body = pool[poolNext++ % pool.length]!;
      return { key: String(poolNext), body };
    }
    return { key: String(i), body: given![i]! };
  };

  const outcome = (status: number): Outcome => ({
    ok: status >= 200 && status < 300,
    status: String(status),
  });

  const run = async (job: Job): Promise<unknown> => {
    switch (job.kind) {
      case 'pool':
        pool = job.bodies;
        poolNext = 0;
        return { size: pool.length };
      case 'probe':
        return probe(job.concurrency, job.durationMs, () => {
          const { body } = nextBody(job.source);
          return post(job, newSvixId(), body).then(outcome);
        });
      case 'rate': {
        const sent: { svixId: string; body: string }[] = [];
        return runAtRate(
          job.rate,
          job.durationMs,
          () => {
            if (sent.length > 0 && Math.random() < job.duplicateRate) {
              const again = sent[Math.floor(Math.random() * sent.length)]!;
              return post(job, again.svixId, again.body).then(outcome);
            }
            const delivery = { svixId: newSvixId(), body: nextBody(job.source).body };
            sent.push(delivery);
            return post(job, delivery.svixId, delivery.body).then(outcome);
          },
          job.timeoutMs,
        ) satisfies Promise<Step>;
      }
      case 'burst': {
        const result: BurstResult = {
          keys: new Array<string>(job.count),
          sentAt: new Array<number>(job.count),
          latencyMs: new Array<number>(job.count),
          status: new Array<number>(job.count),
        };
        const indexes = Array.from({ length: job.count }, (_, i) => i);
        await runAll(indexes, job.concurrency, async (i) => {
          const { key, body } = nextBody(job.source, job.bodies, i);
          const left = performance.now();
          result.keys[i] = key;
          result.sentAt[i] = epochMs();
          result.status[i] = await post(job, job.svixIds?.[i] ?? newSvixId(), body).catch(() => 0);
          result.latencyMs[i] = performance.now() - left;
        });
        return result;
      }
    }
  };

  process.on('message', (message: { id: number; job: Job }) => {
    run(message.job).then(
      (result) => process.send!({ id: message.id, result }),
      (err: unknown) =>
        process.send!({ id: message.id, error: err instanceof Error ? err.stack : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

/** The parent's handle on the sender process. */
export class LoadGenerator {
  private readonly rpc: ChildRpc;

  private constructor(private readonly proc: ChildProcess) {
    this.rpc = new ChildRpc(proc, 'load generator');
  }

  /** Forks this file as the sender. */
  static start(): LoadGenerator {
    return new LoadGenerator(
      fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  /** The process id, for its CPU time in the report. */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  run(job: Extract<Job, { kind: 'rate' }>): Promise<Step>;
  run(job: Extract<Job, { kind: 'probe' }>): Promise<number>;
  run(job: Extract<Job, { kind: 'burst' }>): Promise<BurstResult>;
  run(job: Extract<Job, { kind: 'pool' }>): Promise<{ size: number }>;
  run(job: Job): Promise<unknown> {
    return this.rpc.request({ job });
  }

  close(): void {
    if (this.proc.connected) this.proc.disconnect();
  }
}

if (require.main === module && process.argv.includes('--child')) child();
