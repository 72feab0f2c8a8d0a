import { Writable } from 'node:stream';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import type { ClerkUser } from '../../src/shared/clerk';
import { runScenario } from '@clerk-sync/sandbox';
import { startStack, type Stack } from '../helpers/stack';
import { quietRuntime } from '../helpers/temporal';

// "Readable histories … no email address or name appears in logs": every log line of the API, the worker and the
// Temporal SDK (down to debug) during a sign-up, a join and a leave is checked for the people's emails and names.
const lines: string[] = [];
quietRuntime(
  new DefaultLogger('DEBUG', (entry) => lines.push(`${entry.message} ${JSON.stringify(entry.meta ?? {})}`)),
);
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  }),
);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ logger });
});
afterAll(async () => {
  await stack?.close();
});

it('logs ids and decisions, never an email address or a name', async () => {
  const target = { endpoint: `${stack.api.url}/webhooks/clerk`, secret: stack.secret };
  const deliveries = [
    ...(await runScenario(stack.sandbox, target, 'join-org')),
    ...(await runScenario(stack.sandbox, target, 'leave-org')),
  ];
  for (const d of deliveries) await stack.env.client.workflow.getHandle(d.svixId).result();

  // The people of these scenarios (names like "Ada Lovelace", addresses like ada.lovelace.1f2e3d@example.com).
  const users = deliveries
    .filter((d) => d.type === 'user.created')
    .map((d) => d.event.data as unknown as ClerkUser);
  expect(users).toHaveLength(2);
  const secrets = users.flatMap((u) => [
    ...u.email_addresses.map((e) => e.email_address),
    `${u.first_name} ${u.last_name}`,
    u.last_name!,
  ]);
  expect(lines.length).toBeGreaterThan(deliveries.length); // the log is not empty: there is something to check
  expect(lines.join('\n')).toContain(deliveries[0]!.svixId);
  for (const secret of secrets) {
    expect(lines.filter((l) => l.includes(secret))).toEqual([]);
  }
});
