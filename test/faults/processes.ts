import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(__dirname, '..', '..', 'dist', 'bin.js');

/**
 * A `clerk-sync <role>` process, kept alive as a supervisor (docker's `restart: unless-stopped`) would: when it
 * exits for any reason other than `stop()`, it is started again. `kill()` sends SIGKILL, as a crash would.
 */
export class Supervised {
  private child?: ChildProcess;
  private stopped = false;
  private ready?: Promise<void>;
  /** How many times the process was (re)started. */
  starts = 0;
  /** Lines the process wrote to stderr/stdout (kept for a failing test's message). */
  readonly output: string[] = [];

  constructor(
    private readonly role: 'api' | 'worker',
    private readonly env: Record<string, string>,
    /** A line in the output that means "up". */
    private readonly readyText: RegExp,
  ) {}

  /** Starts the process and resolves once it says it is up. */
  start(): Promise<void> {
    this.stopped = false;
    this.starts += 1;
    const child = spawn(process.execPath, [BIN, this.role], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.ready = new Promise<void>((resolveReady, reject) => {
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(text);
        if (this.output.length > 400) this.output.splice(0, 100);
        if (this.readyText.test(text)) resolveReady();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code, signal) => {
        reject(
          new Error(
            `${this.role} exited (${code ?? signal}) before it was up:\n${this.output.slice(-20).join('')}`,
          ),
        );
        if (!this.stopped && this.child === child) {
          // The supervisor: bring it back after a short pause, as an orchestrator would.
          setTimeout(() => {
            if (!this.stopped && this.child === child) void this.start().catch(() => undefined);
          }, 500);
        }
      });
    });
    return this.ready;
  }

  /** The current process's id (Temporal names a worker `<pid>@<host>`). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Waits until the current process is up. */
  async up(): Promise<void> {
    await this.ready;
  }

  /** A crash: SIGKILL, no graceful shutdown. The supervisor restarts it. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** A crash that nothing restarts: SIGKILL, and the supervisor gives up on it. */
  killForGood(): void {
    this.stopped = true;
    this.child?.kill('SIGKILL');
  }

  /** A clean stop; no restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
