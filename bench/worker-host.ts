import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createClients } from '../src/clients';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createWorkers, installRuntimeLogger, runWorkers } from '../src/worker';
import { ceilingActivities, type Writes } from './ceiling-activities';
import { ChildRpc } from './child-rpc';
import type { LatencyProfile } from './latency';
import { RUN_DIR } from './paths';

// A worker process for the end-to-end rounds, as test/helpers/stack.ts wires one, but in a process of its own
// (as in production) and with the bundle built once by the benchmark: each round starts workers on a fresh task
// queue in a few hundred milliseconds instead of bundling again.

/** What the host does on request. */
export type HostCommand =
  | { cmd: 'product'; address: string; env: Record<string, string>; bundlePath: string }
  | {
      cmd: 'ceiling';
      address: string;
      taskQueue: string;
      bundlePath: string;
      profile?: LatencyProfile;
    }
  | { cmd: 'writes' }
  | { cmd: 'stop' };

function child(): void {
  const logger = createLogger(
    'info',
    pino.destination({ dest: join(RUN_DIR, 'worker-host.log'), sync: false, mkdir: true }),
  );
  installRuntimeLogger(logger);
  let connection: NativeConnection | undefined;
  let workers: Worker[] = [];
  let running: Promise<void> | undefined;
  const writes: Writes = new Map();

  const start = async (address: string, create: (c: NativeConnection) => Promise<Worker[]>) => {
    if (running) throw new Error('workers already running: stop them first');
    connection = await NativeConnection.connect({ address });
    workers = await create(connection);
    running = runWorkers(workers);
    running.catch((err: unknown) => logger.error({ err }, 'workers failed'));
  };

  const handle = async (c: HostCommand): Promise<unknown> => {
    switch (c.cmd) {
      case 'product':
        await start(c.address, (connection) => {
          const config = loadConfig(c.env);
          return createWorkers({
            config,
            connection,
            clients: createClients(config, logger),
            workflowBundle: { codePath: c.bundlePath },
          });
        });
        return 'started';
      case 'ceiling':
        writes.clear();
        await start(c.address, (connection) => {
          const activities = ceilingActivities(writes, c.profile);
          return Promise.all([
            Worker.create({
              connection,
              activities,
              taskQueue: c.taskQueue,
              workflowBundle: { codePath: c.bundlePath },
            }),
          ]);
        });
        return 'started';
      case 'writes':
        return [...writes];
      case 'stop':
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await running?.catch(() => undefined);
        await connection?.close();
        running = undefined;
        connection = undefined;
        workers = [];
        return 'stopped';
    }
  };

  process.on('message', (m: { id: number; command: HostCommand }) => {
    handle(m.command).then(
      (result) => process.send!({ id: m.id, result }),
      (err: unknown) => process.send!({ id: m.id, error: err instanceof Error ? err.stack : String(err) }),
    );
  });
  process.on('disconnect', () => {
    void handle({ cmd: 'stop' }).finally(() => process.exit(0));
  });
}

/** The parent's handle on the worker process. */
export class WorkerHost {
  private readonly rpc: ChildRpc;

  private constructor(private readonly proc: ChildProcess) {
    this.rpc = new ChildRpc(proc, 'worker host');
  }

  /** Forks this file as the worker process; `execArgv` e.g. `--cpu-prof` to profile the workers. */
  static start(execArgv: string[] = []): WorkerHost {
    return new WorkerHost(
      fork(__filename, ['--child'], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  get pid(): number {
    return this.proc.pid!;
  }

  send(command: Extract<HostCommand, { cmd: 'writes' }>): Promise<[string, number][]>;
  send(command: HostCommand): Promise<unknown>;
  send(command: HostCommand): Promise<unknown> {
    return this.rpc.request({ command });
  }

  /** Stops any workers and ends the process. */
  async close(): Promise<void> {
    if (!this.proc.connected) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.disconnect();
    await exited;
  }
}

if (require.main === module && process.argv.includes('--child')) child();
