import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import type { Logger } from '../../src/logger';
import { createApp, type AppDeps } from '../../src/api/app';
import { createMetrics } from '../../src/api/metrics';
import { signDelivery, newSvixId } from '@clerk-sync/sandbox';
import { createStarter } from '../../src/starter';

/** A throwaway `whsec_` secret. */
export function testSecret(): string {
  return `whsec_${Buffer.from(newSvixId()).toString('base64')}`;
}

/** The API served on a free port against a given Temporal client and task queue. */
export async function startTestApi(options: {
  client: Client;
  connection?: Connection;
  taskQueue: string;
  secrets: string[];
  startTimeoutMs?: number;
  operatorApiKey?: string;
  /** The codec server's keys and namespace (`/codec/*`); none: no codec server. */
  codec?: AppDeps['codec'];
  logger?: Logger;
}) {
  const metrics = createMetrics();
  const app = createApp({
    signingSecrets: options.secrets,
    starter: createStarter({
      client: options.client,
      taskQueue: options.taskQueue,
      startTimeoutMs: options.startTimeoutMs,
    }),
    connection: options.connection ?? (options.client.connection as Connection),
    logger: options.logger ?? pino({ level: 'silent' }),
    metrics,
    operatorApiKey: options.operatorApiKey,
    codec: options.codec,
  });
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** POSTs an event signed with `secret` (default: the first configured one), as Svix would. */
  async function postEvent(
    event: unknown,
    opts: {
      secret?: string;
      svixId?: string;
      at?: Date;
      headers?: Record<string, string | undefined>;
      rawBody?: string;
    } = {},
  ) {
    const body = opts.rawBody ?? JSON.stringify(event);
    const delivery = signDelivery(opts.secret ?? options.secrets[0]!, body, {
      svixId: opts.svixId,
      at: opts.at,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...delivery.headers, ...opts.headers }))
      if (v !== undefined) headers[k] = v;
    const res = await fetch(`${url}/webhooks/clerk`, { method: 'POST', headers, body });
    return {
      svixId: delivery.svixId,
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
    };
  }

  return {
    url,
    metrics,
    postEvent,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
