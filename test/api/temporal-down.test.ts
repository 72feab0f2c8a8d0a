import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFixture } from '../../src/local/fixtures';
import { startDevServer, type DevServer } from '../../src/local/temporal-server';
import { newSvixId } from '@clerk-sync/sandbox';
import { connectTemporal } from '../../src/temporal';
import { startTestApi, testSecret } from '../helpers/api';
import { blackhole, freePort } from '../helpers/net';
import { uniqueTaskQueue } from '../helpers/temporal';

const SECRET = testSecret();

/** The API's own client: lazy, so it starts (and answers 503) without Temporal. */
const lazyClient = (address: string) =>
  connectTemporal(
    { temporal: { address, namespace: 'default', taskQueue: 'x', tls: false }, encryptionKeys: [] },
    { lazy: true },
  );

describe('when Temporal is unreachable', () => {
  // A server of its own, with state on disk, so that it can be stopped and started again.
  let server: DevServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('answers 503 (so Svix retries), and accepts the same delivery once Temporal is back', async () => {
    const port = await freePort();
    const dbFilename = join(mkdtempSync(join(tmpdir(), 'clerk-sync-')), 'temporal.db');
    server = await startDevServer({ port, dbFilename });
    const { client, connection } = await lazyClient(server.address);
    const api = await startTestApi({
      client,
      taskQueue: uniqueTaskQueue('down'),
      secrets: [SECRET],
      startTimeoutMs: 3_000,
    });
    try {
      const before = await api.postEvent(loadFixture('user.created'));
      expect(before.body.status).toBe('started');
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);

      await server.stop();
      server = undefined;
      const svixId = newSvixId();
      const during = await api.postEvent(loadFixture('user.updated'), { svixId });
      expect(during).toEqual({
        svixId,
        status: 503,
        body: {
          error: { code: 'temporal_unavailable', message: 'Workflow engine unavailable, retry later' },
        },
      });
      const ready = await fetch(`${api.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'not_ready', temporal: 'unreachable' });

      server = await startDevServer({ port, dbFilename });
      const after = await api.postEvent(loadFixture('user.updated'), { svixId });
      expect(after).toMatchObject({ status: 202, body: { status: 'started', workflowId: svixId } });
      // Nothing accepted before the outage was lost: the first workflow is still there.
      const first = await client.workflow.getHandle(before.svixId).describe();
      expect(first.status.name).toBe('RUNNING');
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    } finally {
      await api.close();
      await connection.close();
    }
  });

  it('answers 503 when a start hangs, well inside Svix 15-second timeout', async () => {
    const hole = await blackhole();
    const { client, connection } = await lazyClient(hole.address);
    const api = await startTestApi({
      client,
      taskQueue: 'never',
      secrets: [SECRET],
      startTimeoutMs: 2_000,
    });
    try {
      const started = Date.now();
      const res = await api.postEvent(loadFixture('user.created'));
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    } finally {
      await api.close();
      await connection.close().catch(() => undefined);
      await hole.close();
    }
  });
});
