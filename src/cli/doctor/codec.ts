import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../../codec';
import type { Config } from '../../config';
import type { CheckResult } from './report';
import { ok, fail, skip, CHECK_TIMEOUT_MS, check, messageOf } from './check';

// doctor: the codec server answers.
/**
 * With encryption keys, the API's codec server (`POST /codec/decode`) decodes what this key encoded: the Temporal
 * UI reads histories through it. `codecUrl` defaults to the API on this machine; nothing answering there is a skip.
 */
export function codecCheck(config: Config, codecUrl: string | undefined): Promise<CheckResult> {
  return check('codec.server', 'Codec server', async () => {
    if (config.encryptionKeys.length === 0) return skip('no encryption key: nothing to decode');
    const base = (codecUrl ?? `http://127.0.0.1:${config.port}/codec`).replace(/\/+$/, '');
    const keyId = config.encryptionKeys[0]!.id;
    const codec = new EncryptionCodec(config.encryptionKeys);
    const probe = defaultPayloadConverter.toPayload({ doctor: 'codec probe' });
    const [encoded] = await codec.encode([probe]);
    const toJson = (p: typeof probe) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    });
    let res: Response;
    try {
      res = await fetch(`${base}/decode`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-namespace': config.temporal.namespace,
          ...(config.operatorApiKey && { authorization: `Bearer ${config.operatorApiKey}` }),
        },
        body: JSON.stringify({ payloads: [toJson(encoded!)] }),
        signal: AbortSignal.timeout(CHECK_TIMEOUT_MS - 500),
      });
    } catch (err) {
      const why = messageOf((err as { cause?: unknown }).cause ?? err);
      if (codecUrl === undefined)
        return skip(
          `no API answering at ${base} (${why}); --codec-url https://<api>/codec checks a remote one`,
        );
      return fail(`${base}: ${why}`, 'check that the API runs and is reachable at that URL');
    }
    if (res.status === 404) {
      return fail(
        `${base}/decode answered 404: the API serves the codec only with CLERK_SYNC_API_KEY set`,
        'set CLERK_SYNC_API_KEY on the API (and here)',
      );
    }
    const sameKey =
      'give the API the same CLERK_SYNC_ENCRYPTION_KEY (during a rotation, the new key first on both)';
    if (!res.ok) {
      const answer = await res.text();
      // The API's error body: `decode_failed` when none of its keys opens what this key sealed.
      const error = errorOf(answer);
      if (res.status === 400 && error?.code === 'decode_failed')
        return fail(
          `key mismatch: ${base} cannot decrypt what key ${keyId} encrypts (${error.message})`,
          sameKey,
        );
      return fail(
        `${base}/decode answered ${res.status}: ${answer.slice(0, 200)}`,
        'check CLERK_SYNC_API_KEY and the key on the API',
      );
    }
    const body = (await res.json()) as { payloads?: { data?: string }[] };
    const data = Buffer.from(body.payloads?.[0]?.data ?? '', 'base64').toString('utf8');
    if (data !== Buffer.from(probe.data!).toString('utf8')) {
      return fail(`key mismatch: ${base} answered, but did not decode what key ${keyId} encrypted`, sameKey);
    }
    return ok(`${base} decodes key ${keyId}`);
  });
}

/** `{"error": {"code", "message"}}`, the body of the API's refusals; undefined for anything else. */
function errorOf(body: string): { code: string; message: string } | undefined {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code === 'string')
      return { code: error.code, message: typeof error.message === 'string' ? error.message : '' };
  } catch {
    // not JSON: not the API's answer
  }
  return undefined;
}
