import { Client, Connection, isGrpcServiceError, type ConnectionOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { dataConverter } from './codec';
import type { Config } from './config';
import type { Logger } from './logger';
import { SEARCH_ATTRIBUTES } from './shared/search-attributes';

/** Connection options for a local server, a self-hosted cluster (TLS) or Temporal Cloud (API key). */
export function connectionOptions(t: Config['temporal']): ConnectionOptions & { apiKey?: string } {
  return { address: t.address, tls: t.tls ? {} : undefined, apiKey: t.apiKey };
}

/** What a Temporal client is built from: the server, namespace and payload keys. */
export type TemporalSettings = Pick<Config, 'temporal' | 'encryptionKeys'>;

/** A client of the configured namespace, and the connection it owns (for `/readyz`, search attributes, `close`). */
export interface TemporalClient {
  readonly client: Client;
  readonly connection: Connection;
}

/**
 * The one way the API, the CLIs and dev mode reach Temporal: `connectionOptions` (TLS, API key), the configured
 * namespace, and the payload codec when keys are set. `lazy` dials on first use, so the API starts (and reports
 * not-ready) without Temporal; otherwise a server that does not answer is an error naming the address.
 */
export async function connectTemporal(
  settings: TemporalSettings,
  { lazy = false }: { lazy?: boolean } = {},
): Promise<TemporalClient> {
  const t = settings.temporal;
  const connection = lazy ? Connection.lazy(connectionOptions(t)) : await dial(t);
  const client = new Client({
    connection,
    namespace: t.namespace,
    dataConverter: dataConverter(settings.encryptionKeys),
  });
  return { client, connection };
}

async function dial(t: Config['temporal']): Promise<Connection> {
  try {
    return await Connection.connect(connectionOptions(t));
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${t.address} (${temporalErrorMessage(err)})`, {
      cause: err,
    });
  }
}

/** An error's message, with the gRPC error's that a Temporal error wraps (TemporalUnavailable, ServiceError). */
export function temporalErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message;
}

/** `ensureSearchAttributes` over a connection of its own: `temporal-setup` and dev mode, before anything starts. */
export async function registerSearchAttributes(
  settings: TemporalSettings,
  logger: Logger,
): Promise<string[]> {
  const { connection } = await connectTemporal(settings);
  try {
    const namespace = settings.temporal.namespace;
    const added = await ensureSearchAttributes(connection, namespace, logger);
    // Registered is not yet usable: the frontend learns them at its next namespace refresh (seconds).
    if (added.length > 0) await awaitSearchAttributes(connection, namespace, logger);
    return added;
  } finally {
    await connection.close();
  }
}

/** Waits (up to 30 s, then warns and goes on) until a start may set the search attributes. */
async function awaitSearchAttributes(
  connection: Connection,
  namespace: string,
  logger: Logger,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await searchAttributesUsable(connection, namespace)).state !== 'usable') {
    if (Date.now() > deadline) {
      logger.warn({ namespace }, 'search attributes registered but not usable yet after 30 s');
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Registers SPEC.md's custom search attributes in the namespace, once: a fresh cluster works without manual steps.
 * Temporal Cloud refuses this call for API keys; there the attributes are added with `tcld` and this only checks.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  logger: Logger,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const present = { ...existing.customAttributes, ...existing.systemAttributes };
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in present));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    const names = missing.map((k) => k.name).join(', ');
    logger.error(
      { err, namespace, missing: names },
      'could not register search attributes; add them as Keyword (tcld namespace search-attributes add)',
    );
    throw err;
  }
  logger.info({ namespace, added: missing.map((k) => k.name) }, 'search attributes registered');
  return missing.map((k) => k.name);
}

/** gRPC status codes the callers tell apart: a query naming an unknown search attribute; an unknown namespace. */
export const GRPC_INVALID_ARGUMENT = 3;
export const GRPC_NOT_FOUND = 5;

/** The gRPC status code of a failed Temporal call, if it is one. */
export function grpcCode(err: unknown): number | undefined {
  return isGrpcServiceError(err) ? Number(err.code) : undefined;
}

/**
 * Whether a start that sets SPEC.md's search attributes would be accepted now: `usable`, or `missing` (with the
 * names the namespace lacks). Registering them is not enough: the frontend validates a start against its cached
 * copy of the namespace, refreshed every few seconds (`system.namespaceCacheRefreshInterval`), so on SQL
 * visibility a start fails for a moment after `addSearchAttributes` returned. A visibility count that names each
 * attribute goes through the same cache, so it fails exactly while a start would. Other errors (Temporal
 * unreachable) are thrown.
 */
export async function searchAttributesUsable(
  connection: Connection,
  namespace: string,
): Promise<{ state: 'usable' } | { state: 'missing'; missing: string[] }> {
  const query = SEARCH_ATTRIBUTES.map((key) => `${key.name} = 'readyz'`).join(' AND ');
  try {
    await connection.workflowService.countWorkflowExecutions({ namespace, query });
    return { state: 'usable' };
  } catch (err) {
    if (grpcCode(err) !== GRPC_INVALID_ARGUMENT) throw err;
  }
  // Name what is absent from the namespace; all of them while it exists but the frontend does not know them yet.
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const present = { ...listed.customAttributes, ...listed.systemAttributes };
  const absent = SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(name in present));
  return { state: 'missing', missing: absent.length > 0 ? absent : SEARCH_ATTRIBUTES.map((k) => k.name) };
}
