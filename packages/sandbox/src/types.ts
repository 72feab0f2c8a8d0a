import type { Middleware } from 'koa';

/** The four SaaS services the sandbox stands in for; each is served under `/<name>`. */
export type ServiceName = 'salesforce' | 'clerk' | 'resend' | 'slack';

/** One stand-in service, mounted by `createSandbox` (server.ts) behind the fault and call-log middleware. */
export interface SandboxService {
  readonly name: ServiceName;
  /** Handles every request under `/<name>`; `ctx.path` arrives with that prefix stripped. */
  readonly middleware: Middleware;
  /** Back to the seeded state. */
  reset(): void;
  /** What a person or a test reads (records, emails, messages); JSON-serialisable. */
  snapshot(): Record<string, unknown>;
  /** Extra operations, served as `POST /_sandbox/<name>/<action>` with a JSON body. */
  readonly control?: Record<string, (body: unknown) => unknown>;
}
