import { Connection, type ConnectionOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from './config';
import type { Logger } from './logger';
import { SEARCH_ATTRIBUTES } from './shared/search-attributes';

/** Connection options for a local server, a self-hosted cluster (TLS) or Temporal Cloud (API key). */
export function connectionOptions(t: Config['temporal']): ConnectionOptions & { apiKey?: string } {
  return { address: t.address, tls: t.tls ? {} : undefined, apiKey: t.apiKey };
}

/** A client connection that does not dial until first used, so the API starts (and reports not-ready) without Temporal. */
export function lazyConnection(t: Config['temporal']): Connection {
  return Connection.lazy(connectionOptions(t));
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
