import Long from 'long';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { createSandbox, type Sandbox } from '@clerk-sync/sandbox';
import { loadFixture } from '../../src/local/fixtures';
import { Supervised } from '../faults/processes';
import { testSecret } from '../helpers/api';
import { freePort } from '../helpers/net';
import { Redeliverer } from '../helpers/redeliverer';
import { testEngine, uniqueTaskQueue, waitUntil } from '../helpers/temporal';

// Ready means ready (issue 18): on a fresh namespace the search attributes the API sets do not exist until the
// worker registers them, and a start that sets one fails until the frontend's namespace cache has them (seconds
// later; on the Temporal server on PostgreSQL about 2 s). `/readyz` says 503 all that time, so a delivery sent
// from the moment it says 200 is accepted. Runs on either engine; a namespace of its own stands for a fresh server.

const address = process.env.TEMPORAL_TEST_ADDRESS!;
let connection: Connection;
let sandbox: Sandbox;
const processes: Supervised[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address });
  sandbox = await createSandbox();
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await sandbox?.close();
  await connection?.close();
});

it(`/readyz is 200 only once a start would succeed: fresh namespace, API and worker started together (${testEngine()})`, async () => {
  const namespace = `readiness-${randomUUID()}`;
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(24 * 60 * 60) }, // one day
  });
  const port = await freePort();
  const secret = testSecret();
  const common = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('readiness'),
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
  };
  const api = new Supervised(
    'api',
    { ...common, PORT: String(port), CLERK_WEBHOOK_SIGNING_SECRET: secret },
    /API listening/,
  );
  const worker = new Supervised(
    'worker',
    { ...common, ...sandbox.env, WELCOME_EMAIL_FROM: 'Acme <hello@acme.test>' },
    /worker polling/,
  );
  processes.push(api, worker);
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  // The API is up before the worker has registered anything: not ready, and it says why.
  await api.start();
  const workerUp = worker.start();
  const first = await readyz();
  expect(first.status).toBe(503);
  expect(first.body).toMatchObject({ status: 'not_ready', temporal: 'reachable', namespace });

  // From the first 200 on, every delivery is accepted at its first attempt.
  const seen: number[] = [];
  await waitUntil(
    async () => {
      const { status } = await readyz();
      if (seen.at(-1) !== status) seen.push(status);
      return status === 200;
    },
    60_000,
    '/readyz 200',
  );
  const redeliverer = new Redeliverer(`http://127.0.0.1:${port}/webhooks/clerk`, secret);
  const fixture = loadFixture('user.created') as { data: Record<string, unknown> };
  await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 100));
      await redeliverer.deliver({ ...fixture, data: { ...fixture.data, id: `user_ready_${i}` } });
    }),
  );
  expect(seen).toEqual([503, 200]);
  expect(redeliverer.stats).toMatchObject({ events: 10, attempts: 10, answered503: 0, lost: 0 });
  expect((await readyz()).body).toEqual({ status: 'ready', temporal: 'reachable' });
  await workerUp;
}, 120_000);
