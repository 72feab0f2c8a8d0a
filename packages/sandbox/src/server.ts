import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Koa from 'koa';
import type { Context } from 'koa';
import type { CallRecord } from './call-log';
import { CallLog } from './call-log';
import type { ClerkSeed, ClerkService, WebhookTarget } from './clerk';
import { createClerkService } from './clerk';
import { SANDBOX_CREDENTIALS } from './credentials';
import type { ActiveFault } from './faults';
import { FaultRuleInvalid, Faults, parseFaultRule } from './faults';
import { renderPage } from './page';
import { runScenario, SCENARIOS, type ScenarioName } from './scenarios';
import type { ResendService } from './resend';
import { createResendService } from './resend';
import type { SalesforceSandboxOptions, SalesforceService } from './salesforce';
import { createSalesforceService, SERVER_MAX_HEADER_SIZE } from './salesforce';
import type { SlackService } from './slack';
import { createSlackService } from './slack';
import type { ServiceName } from './types';
import { isRecord, readJson, sendJson } from './wire';

/** Options of `createSandbox`. */
export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the sandbox's credentials are public, so it never listens beyond the machine. */
  host?: string;
  /** Clerk seed: a JSON file path or the object itself; default fixtures/clerk-seed.json. */
  seed?: string | ClerkSeed;
  /** Where Clerk Backend API mutations deliver their webhooks (the product's `/webhooks/clerk`). */
  webhook?: WebhookTarget;
  salesforce?: SalesforceSandboxOptions;
}

/** The environment that points clerk-sync (or any client) at a sandbox, in the order SPEC lists it. */
export interface SandboxEnv {
  SALESFORCE_LOGIN_URL: string;
  SALESFORCE_CLIENT_ID: string;
  SALESFORCE_CLIENT_SECRET: string;
  CLERK_API_URL: string;
  CLERK_SECRET_KEY: string;
  RESEND_BASE_URL: string;
  RESEND_API_KEY: string;
  /** A sender on the sandbox Resend's verified domain. */
  WELCOME_EMAIL_FROM: string;
  SLACK_WEBHOOK_URL: string;
}

/** The stand-ins, typed. */
export interface SandboxServices {
  salesforce: SalesforceService;
  clerk: ClerkService;
  resend: ResendService;
  slack: SlackService;
}

/** A running sandbox. */
export interface Sandbox {
  /** `http://127.0.0.1:<port>`; the read-only page is at `/`. */
  readonly url: string;
  readonly port: number;
  readonly env: SandboxEnv;
  readonly services: SandboxServices;
  readonly faults: Faults;
  /** The call log of one service, or of all, oldest first. */
  calls(service?: ServiceName): CallRecord[];
  /** Every service back to its seed; faults and the call log cleared. */
  reset(): void;
  /** Stops listening, releases hanging requests and stops webhook retries. */
  close(): Promise<void>;
}

const SERVICE_NAMES: readonly ServiceName[] = ['salesforce', 'clerk', 'resend', 'slack'];
/** Request line plus headers the other stand-ins accept: Node's default, which they had before the server's was raised. */
const DEFAULT_HEADER_LIMIT = 16 * 1024;

/** Starts the sandbox: every stand-in on one port under `/<name>`, behind the call log and fault injection. */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  // Listen first: Salesforce's token answer must carry the sandbox's own URL as `instance_url`.
  const host = options.host ?? '127.0.0.1';
  // Above Node's 16 KiB default, so an over-long URL reaches Salesforce's stand-in and gets Salesforce's 414.
  const server: Server = createServer({ maxHeaderSize: SERVER_MAX_HEADER_SIZE });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;

  const salesforceOptions = {
    clientId: SANDBOX_CREDENTIALS.salesforceClientId,
    clientSecret: SANDBOX_CREDENTIALS.salesforceClientSecret,
    instanceUrl: `${url}/salesforce`,
    ...options.salesforce,
  };
  let services: SandboxServices;
  try {
    services = {
      salesforce: createSalesforceService(salesforceOptions),
      clerk: createClerkService({ seed: options.seed, webhook: options.webhook }),
      resend: createResendService(),
      slack: createSlackService(),
    };
  } catch (err) {
    server.close(); // a bad seed file: do not keep the port
    throw err;
  }
  const env: SandboxEnv = {
    SALESFORCE_LOGIN_URL: `${url}/salesforce`,
    SALESFORCE_CLIENT_ID: salesforceOptions.clientId,
    SALESFORCE_CLIENT_SECRET: salesforceOptions.clientSecret,
    CLERK_API_URL: `${url}/clerk`,
    CLERK_SECRET_KEY: SANDBOX_CREDENTIALS.clerkSecretKey,
    RESEND_BASE_URL: `${url}/resend`,
    RESEND_API_KEY: SANDBOX_CREDENTIALS.resendApiKey,
    WELCOME_EMAIL_FROM: 'clerk-sync sandbox <welcome@example.com>',
    SLACK_WEBHOOK_URL: `${url}/slack${SANDBOX_CREDENTIALS.slackWebhookPath}`,
  };
  const faults = new Faults();
  const log = new CallLog();
  const hanging = new Set<() => void>();

  const reset = () => {
    for (const name of SERVICE_NAMES) services[name].reset();
    faults.clear();
    log.clear();
  };
  const state = () => ({
    ...Object.fromEntries(SERVICE_NAMES.map((name) => [name, services[name].snapshot()])),
    faults: faults.list(),
    calls: Object.fromEntries(SERVICE_NAMES.map((name) => [name, log.total(name)])),
  });

  /** Waits `ms`, or until the client goes away; true when it went away. */
  const wait = (ctx: Context, ms: number | undefined): Promise<boolean> =>
    new Promise((resolve) => {
      if (ctx.res.destroyed || ctx.req.destroyed) return resolve(true);
      const done = (gone: boolean) => {
        if (timer) clearTimeout(timer);
        ctx.res.off('close', onClose);
        hanging.delete(onRelease);
        resolve(gone);
      };
      const onClose = () => done(true);
      const onRelease = () => done(true);
      const timer = ms === undefined ? undefined : setTimeout(() => done(false), ms);
      ctx.res.once('close', onClose);
      hanging.add(onRelease);
    });

  /** Plays the fault: answered, gone (client left or hang), or pass (latency only: the service still runs). */
  const applyFault = async (ctx: Context, fault: ActiveFault): Promise<'answered' | 'pass' | 'gone'> => {
    if (fault.latencyMs !== undefined && (await wait(ctx, fault.latencyMs))) return 'gone';
    if (fault.hang) {
      await wait(ctx, undefined);
      return 'gone';
    }
    if (fault.status === undefined) return 'pass';
    ctx.status = fault.status;
    if (typeof fault.body === 'string') {
      ctx.body = fault.body;
      ctx.set(fault.headers ?? {});
      if (!fault.headers?.['Content-Type'] && !fault.headers?.['content-type']) ctx.type = 'text/plain';
    } else {
      sendJson(ctx, fault.status, fault.body ?? {}, fault.headers);
    }
    return 'answered';
  };

  const serveService = async (ctx: Context, name: ServiceName, rest: string) => {
    const at = Date.now();
    const started = performance.now();
    ctx.path = rest === '' ? '/' : rest;
    const call: CallRecord = {
      service: name,
      method: ctx.method,
      path: ctx.path,
      query: copyQuery(ctx),
      status: 0,
      durationMs: 0,
      at,
    };
    try {
      // Salesforce checks its own limits (414 / 431); the others keep Node's default answer to an oversized head.
      if (name !== 'salesforce' && headBytes(ctx) > DEFAULT_HEADER_LIMIT) {
        ctx.status = 431;
        ctx.body = '';
        ctx.set('Connection', 'close');
        return;
      }
      const fault = faults.take(name, ctx.method, ctx.path);
      const outcome = fault ? await applyFault(ctx, fault) : 'pass';
      if (fault) call.faultId = fault.id;
      if (outcome === 'gone') {
        call.aborted = true;
        ctx.respond = false;
        return;
      }
      if (outcome === 'pass') {
        if (fault?.discardWrites) ctx.state.discardWrites = true; // read by the Salesforce stand-in
        await services[name].middleware(ctx, () => {
          sendJson(ctx, 404, {
            error: 'not_found',
            message: `${name} sandbox has no ${ctx.method} ${ctx.path}`,
          });
          return Promise.resolve();
        });
        if (fault?.dropResponse) {
          // The service has done its work; its answer never reaches the client.
          call.droppedStatus = ctx.status;
          call.aborted = true;
          ctx.respond = false;
          if (fault.dropResponse === 'reset') resetConnection(ctx);
          else await wait(ctx, undefined);
        }
      }
    } catch (err) {
      // A stand-in bug: answer 500 so the client sees a server error, and report it on stderr.
      ctx.app.emit('error', err, ctx);
      sendJson(ctx, 500, {
        error: 'sandbox_error',
        message: err instanceof Error ? err.message : String(err),
      });
    } finally {
      call.status = call.aborted ? 0 : ctx.status;
      call.durationMs = performance.now() - started;
      if (ctx.res.destroyed && !ctx.res.writableFinished) call.aborted = true;
      log.record(call);
    }
  };

  const control = async (ctx: Context, route: string) => {
    const [head, action] = route.split('/');
    if (ctx.method === 'GET' && route === 'state') return sendJson(ctx, 200, state());
    // What `clerk-sync sandbox` prints: operator commands beside `npm start` (doctor, explain) read it from here.
    if (ctx.method === 'GET' && route === 'env') return sendJson(ctx, 200, env);
    if (ctx.method === 'GET' && route === 'calls') {
      const service = ctx.query.service;
      if (service !== undefined && !SERVICE_NAMES.includes(service as ServiceName)) {
        return sendJson(ctx, 400, { error: `unknown service ${String(service)}` });
      }
      return sendJson(ctx, 200, log.calls(service as ServiceName | undefined));
    }
    if (ctx.method === 'POST' && route === 'reset') {
      reset();
      return sendJson(ctx, 200, { status: 'reset' });
    }
    if (head === 'faults') {
      if (ctx.method === 'GET' && !action) return sendJson(ctx, 200, faults.list());
      if (ctx.method === 'DELETE' && !action) {
        faults.clear();
        return sendJson(ctx, 200, { status: 'cleared' });
      }
      if (ctx.method === 'DELETE' && action) {
        return faults.remove(action)
          ? sendJson(ctx, 200, { status: 'removed', id: action })
          : sendJson(ctx, 404, { error: `no fault ${action}` });
      }
      if (ctx.method === 'POST' && !action) {
        const body = await readJson(ctx);
        const rules = Array.isArray(body) ? body : [body];
        const ids = rules.map((rule) => faults.add(parseFaultRule(rule)));
        return sendJson(ctx, 201, Array.isArray(body) ? { ids } : { id: ids[0] });
      }
    }
    if (ctx.method === 'POST' && head === 'scenarios' && action) {
      // Runs a scripted scenario against this sandbox's Clerk and delivers its webhooks to the configured endpoint.
      if (!Object.hasOwn(SCENARIOS, action)) {
        return sendJson(ctx, 404, {
          error: `no scenario ${action}; try one of ${Object.keys(SCENARIOS).join(', ')}`,
        });
      }
      if (!options.webhook)
        return sendJson(ctx, 409, { error: 'the sandbox has no webhook target to deliver to' });
      const deliveries = await runScenario(
        { services },
        { endpoint: options.webhook.url, secret: options.webhook.secret },
        action as ScenarioName,
      );
      return sendJson(
        ctx,
        200,
        deliveries.map(({ svixId, type, status, body }) => ({ svixId, type, status, body })),
      );
    }
    if (ctx.method === 'POST' && SERVICE_NAMES.includes(head as ServiceName) && action) {
      const run = services[head as ServiceName].control?.[action];
      if (!run) return sendJson(ctx, 404, { error: `${head} has no control action ${action}` });
      const result = await run((await readJson(ctx)) ?? {});
      return sendJson(ctx, 200, result ?? { status: 'ok' });
    }
    sendJson(ctx, 404, { error: `no control route ${ctx.method} /_sandbox/${route}` });
  };

  const app = new Koa();
  app.silent = process.env.NODE_ENV === 'test';
  app.use(async (ctx) => {
    const path = ctx.path;
    const slash = path.indexOf('/', 1);
    const head = slash === -1 ? path.slice(1) : path.slice(1, slash);
    const rest = slash === -1 ? '' : path.slice(slash);
    if (SERVICE_NAMES.includes(head as ServiceName)) return serveService(ctx, head as ServiceName, rest);
    if (head === '_sandbox') {
      try {
        return await control(ctx, rest.replace(/^\/+|\/+$/g, ''));
      } catch (err) {
        const status = statusOf(err);
        return sendJson(ctx, status, { error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (path === '/' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = 'html';
      ctx.body = renderPage(state(), { url });
      return;
    }
    sendJson(ctx, 404, {
      error: `nothing at ${path}: services live under /salesforce, /clerk, /resend, /slack`,
    });
  });

  const handle = app.callback();
  server.on('request', (req, res) => void handle(req, res));

  return {
    url,
    port,
    env,
    services,
    faults,
    calls: (service) => log.calls(service),
    reset,
    close: async () => {
      services.clerk.close();
      for (const release of [...hanging]) release();
      const closed = new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      );
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Resets the client's connection (TCP RST where the platform allows it), without an answer. */
function resetConnection(ctx: Context): void {
  const socket = ctx.req.socket;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Bytes of the request line and header block as received. */
function headBytes(ctx: Context): number {
  const { method, httpVersion, rawHeaders } = ctx.req;
  let total = `${method} ${ctx.originalUrl} HTTP/${httpVersion}\r\n`.length;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    total += rawHeaders[i]!.length + rawHeaders[i + 1]!.length + 4;
  return total;
}

function copyQuery(ctx: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(ctx.query)) if (v !== undefined) out[k] = v;
  return out;
}

/** The HTTP status an error from a control action maps to (Clerk's errors carry theirs). */
function statusOf(err: unknown): number {
  if (err instanceof FaultRuleInvalid) return 400;
  if (isRecord(err) && typeof err.status === 'number' && err.status >= 400 && err.status < 600)
    return err.status;
  return err instanceof Error ? 400 : 500;
}
