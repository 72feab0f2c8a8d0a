import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadFixture } from '../../src/local/fixtures';
import { newSvixId, signDelivery } from '@clerk-sync/sandbox';
import { startTestApi, testSecret } from '../helpers/api';
import { attachTemporal, uniqueTaskQueue } from '../helpers/temporal';

// Bad input: at least 10k malformed, truncated, oversized, wrongly signed, replayed-timestamp and random-bytes
// requests with header variants. Every one is answered 4xx, the process stays up, nothing starts, memory holds.
const SECRET = testSecret();
const TOTAL = 10_000;
const CONCURRENCY = 16;

let env: TestWorkflowEnvironment;
let api: Awaited<ReturnType<typeof startTestApi>>;
let taskQueue: string;

beforeAll(async () => {
  env = await attachTemporal();
  taskQueue = uniqueTaskQueue('fuzz');
  api = await startTestApi({ client: env.client, taskQueue, secrets: [SECRET] });
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

/** Heap still in use after a full garbage collection. */
function heldHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A deterministic generator, so a failing case can be reproduced from its index. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const valid = JSON.stringify(loadFixture('user.created'));
type Case = { name: string; headers: Record<string, string>; body: string | Buffer; method?: string };

/** The i-th malformed request; none of them may start a workflow. */
function malformed(i: number): Case {
  const r = rng(i);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const signed = (body: string | Buffer, at = new Date()) => signDelivery(SECRET, body.toString(), { at });
  const variant = i % 12;
  switch (variant) {
    case 0: {
      const body = randomBytes(1 + Math.floor(r() * 2048));
      return {
        name: 'random bytes, random signature',
        body,
        headers: { ...signed('x').headers, 'svix-signature': `v1,${randomBytes(32).toString('base64')}` },
      };
    }
    case 1: {
      const body = valid.slice(0, Math.floor(r() * valid.length));
      return { name: 'truncated body under the full body’s signature', body, headers: signed(valid).headers };
    }
    case 2:
      return {
        name: 'signed with another secret',
        body: valid,
        headers: signDelivery(testSecret(), valid).headers,
      };
    case 3: {
      const minutes = pick([6, 30, 60 * 24, 60 * 24 * 365]);
      return {
        name: 'replayed timestamp',
        body: valid,
        headers: signed(valid, new Date(Date.now() - minutes * 60_000)).headers,
      };
    }
    case 4: {
      const d = signed(valid);
      const drop = pick(['svix-id', 'svix-timestamp', 'svix-signature']);
      const headers: Record<string, string> = { ...d.headers };
      delete headers[drop];
      return { name: `without ${drop}`, body: valid, headers };
    }
    case 5: {
      const d = signed(valid);
      const signature = pick([
        '',
        'v1,',
        'v1',
        'v2,abc',
        'v1,' + 'A'.repeat(500),
        ' '.repeat(10),
        'v1a,xyz v1,',
        '\u00e9\u00e9',
      ]);
      return {
        name: 'garbled signature header',
        body: valid,
        headers: { ...d.headers, 'svix-signature': signature },
      };
    }
    case 6: {
      const d = signed(valid);
      const ts = pick([
        '',
        'abc',
        '-1',
        '1e10',
        '99999999999999999999',
        `${Math.floor(Date.now() / 1000)}.5`,
        '0x10',
      ]);
      return {
        name: 'garbled timestamp header',
        body: valid,
        headers: { ...d.headers, 'svix-timestamp': ts },
      };
    }
    case 7: {
      const body = pick([
        '',
        'null',
        '[]',
        '{}',
        '"text"',
        '{"type":1,"data":{}}',
        '{"type":"user.created"}',
        '{"data":{}}',
        '{"type":"user.created","data":[]}',
      ]);
      return { name: 'signed JSON that is not an event', body, headers: signed(body).headers };
    }
    case 8: {
      const body = `{"type":"user.created","data":${'['.repeat(1 + Math.floor(r() * 5000))}`;
      return { name: 'signed, deeply nested, broken JSON', body, headers: signed(body).headers };
    }
    case 9: {
      const d = signed(valid);
      return { name: 'a tampered byte', body: valid.replace('"', "'"), headers: d.headers };
    }
    case 10: {
      const d = signed(valid);
      return {
        name: 'Standard Webhooks names with a bad signature',
        body: valid,
        headers: {
          'webhook-id': newSvixId(),
          'webhook-timestamp': d.headers['svix-timestamp'],
          'webhook-signature': 'v1,AAAA',
          'content-type': 'application/json',
        },
      };
    }
    default: {
      // A few oversized ones (they are expensive): over 1 MiB, correctly signed.
      if (i % 240 === 11) {
        const body = JSON.stringify({
          type: 'user.created',
          data: { pad: 'x'.repeat(1024 * 1024 + Math.floor(r() * 4096)) },
        });
        return { name: 'oversized', body, headers: signed(body).headers };
      }
      return { name: 'wrong method', method: pick(['GET', 'PUT', 'DELETE', 'PATCH']), body: '', headers: {} };
    }
  }
}

it(`answers ${TOTAL} malformed requests with 4xx, stays up, starts nothing, and holds its memory`, async () => {
  const statuses = new Map<number, number>();
  const unexpected: string[] = [];
  let next = 0;
  let stop = 0;
  async function lane() {
    for (let i = next++; i < stop; i = next++) {
      const c = malformed(i);
      const res = await fetch(`${api.url}/webhooks/clerk`, {
        method: c.method ?? 'POST',
        headers: c.headers,
        body:
          c.method && c.method !== 'POST' && c.method !== 'PUT' && c.method !== 'PATCH' ? undefined : c.body,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status < 400 || res.status >= 500) unexpected.push(`#${i} ${c.name}: ${res.status}`);
    }
  }
  const run = async (until: number) => {
    stop = until;
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    next = until;
  };
  await run(1_000); // warm-up: caches, JIT, connection pools
  const early = heldHeap();
  await run(TOTAL);
  const late = heldHeap();

  expect(unexpected).toEqual([]);
  expect([...statuses.keys()].every((s) => [400, 401, 404, 405, 413].includes(s))).toBe(true);
  expect(statuses.get(413)).toBeGreaterThan(0);
  expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  const metrics = await (await fetch(`${api.url}/metrics`)).text();
  expect(metrics).not.toMatch(/clerk_sync_webhook_requests_total\{outcome="started"\}/);
  expect(await env.client.workflow.count(`TaskQueue = '${taskQueue}'`)).toMatchObject({ count: 0 });
  // Memory: what is still held after 10k requests is within a few MiB of what was held after the first 1k.
  expect((late - early) / 1024 / 1024).toBeLessThan(16);
}, 300_000);
