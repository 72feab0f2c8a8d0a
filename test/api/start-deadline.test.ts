import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { newSvixId } from '@clerk-sync/sandbox';
import { loadFixture } from '../../src/local/fixtures';
import { startTestApi, testSecret } from '../helpers/api';
import { uniqueTaskQueue } from '../helpers/temporal';

// README "Nothing is acknowledged before Temporal accepted it": 503 when Temporal is slower than 5 s, the API's
// default start deadline (src/starter.ts; `clerk-sync api` sets none of its own). Temporal is the run's real server
// behind a proxy that holds back its answers; requests reach it at once, so a start answered 503 may still land, and
// Svix's redelivery then gets `duplicate`.

/** A TCP proxy to `target` that delays every byte coming back by `delayMs` (changeable), keeping their order. */
async function slowProxy(
  target: string,
): Promise<{ address: string; delayMs: number; close(): Promise<void> }> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<Socket>();
  const proxy = { address: '', delayMs: 0, close: () => Promise.resolve() };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    let released = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      const due = Date.now() + proxy.delayMs;
      released = released.then(async () => {
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (!client.destroyed) client.write(chunk);
      });
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

const SECRET = testSecret();

it('answers 503 once a start has taken 5 s, and 202 to one that took 3 s', async () => {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address)
    throw new Error('TEMPORAL_TEST_ADDRESS is not set: run the tests through jest (global-setup)');
  const proxy = await slowProxy(address);
  const connection = await Connection.connect({ address: proxy.address });
  const client = new Client({ connection });
  // No startTimeoutMs: the starter's default, as `clerk-sync api` runs it.
  const api = await startTestApi({ client, taskQueue: uniqueTaskQueue('deadline'), secrets: [SECRET] });
  const started: string[] = [];
  const timed = async (svixId: string) => {
    const at = performance.now();
    const res = await api.postEvent(loadFixture('user.created'), { svixId });
    if (res.status === 202) started.push(svixId);
    return { status: res.status, body: res.body, ms: performance.now() - at };
  };
  try {
    proxy.delayMs = 8_000;
    const slow = newSvixId();
    const late = await timed(slow);
    expect({ status: late.status, body: late.body }).toEqual({
      status: 503,
      body: { error: { code: 'temporal_unavailable', message: 'Workflow engine unavailable, retry later' } },
    });
    expect(late.ms).toBeGreaterThanOrEqual(4_950);
    expect(late.ms).toBeLessThan(7_000); // the deadline answered, not Temporal (8 s)

    // Temporal did get that start: Svix's redelivery finds it, and nothing runs twice.
    proxy.delayMs = 0;
    const redelivered = await timed(slow);
    expect(redelivered).toMatchObject({ status: 200, body: { status: 'duplicate', workflowId: slow } });
    started.push(slow);

    proxy.delayMs = 3_000;
    const patient = await timed(newSvixId());
    expect(patient).toMatchObject({ status: 202, body: { status: 'started' } });
    expect(patient.ms).toBeGreaterThanOrEqual(2_950);
  } finally {
    proxy.delayMs = 0;
    await Promise.all(
      started.map((id) =>
        client.workflow
          .getHandle(id)
          .terminate('test done')
          .catch(() => undefined),
      ),
    );
    await api.close();
    await connection.close();
    await proxy.close();
  }
}, 60_000);
