import type { ChildProcess } from 'node:child_process';

/**
 * Request and answer over a forked child's IPC channel: each request carries an id, the child answers
 * `{ id, result }` or `{ id, error }`; if the child exits, every waiting request fails.
 */
export class ChildRpc {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    readonly proc: ChildProcess,
    name: string,
  ) {
    proc.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(`${name}: ${m.error}`));
      else w?.resolve(m.result);
    });
    proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${name} exited with ${code}`));
      this.waiting.clear();
    });
  }

  /** Sends `{ id, ...body }` and resolves with the child's result. */
  request(body: Record<string, unknown>): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.send({ id, ...body });
    });
  }
}
