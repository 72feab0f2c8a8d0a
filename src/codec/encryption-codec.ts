import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** The `encoding` of a payload this codec encrypted. */
export const ENCODING = 'binary/encrypted';
/** Metadata naming the key that encrypted the payload, so keys can rotate. */
export const METADATA_KEY_ID = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One `CLERK_SYNC_ENCRYPTION_KEY` entry: a key id and its 32-byte AES-256 key. */
export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A payload that cannot be decrypted: unknown key id, or data that fails GCM authentication. */
export class PayloadDecryptionFailed extends ValueError {
  override readonly name = 'PayloadDecryptionFailed';
}

/** A payload in clear where the codec accepts only encrypted ones (a worker with keys, outside a migration). */
export class PlaintextPayloadRefused extends ValueError {
  override readonly name = 'PlaintextPayloadRefused';
}

/** What `decode` does with a payload it did not encrypt. */
export interface EncryptionCodecOptions {
  /**
   * `'pass'` (default): returned unchanged, so histories from before the key stay readable (clients, codec server).
   * `'refuse'`: rejected with `PlaintextPayloadRefused` (workers: issue 12, a start that did not come through the API
   * cannot run).
   */
  readonly plaintext?: 'pass' | 'refuse';
}

const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

/**
 * AES-256-GCM over the whole serialised payload (metadata included), a fresh 12-byte IV per payload, and the key
 * id as additional authenticated data. Data layout: IV ‖ ciphertext ‖ 16-byte tag. The first key encrypts; every
 * key decrypts the payloads that name it. Payloads it did not encrypt (written before a key was configured) pass
 * through unchanged, or are refused (`plaintext: 'refuse'`).
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Buffer>;
  private readonly current: EncryptionKey;
  private readonly refusePlaintext: boolean;

  constructor(keys: readonly EncryptionKey[], options: EncryptionCodecOptions = {}) {
    const [first] = keys;
    if (!first) throw new Error('EncryptionCodec needs at least one key');
    const byId = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new Error(`encryption key "${id}" must be 32 bytes (AES-256)`);
      if (byId.has(id))
        throw new Error(`encryption key id "${id}" appears twice in CLERK_SYNC_ENCRYPTION_KEY`);
      byId.set(id, key);
    }
    this.byId = byId;
    this.current = first;
    this.refusePlaintext = options.plaintext === 'refuse';
  }

  /** The id of the key new payloads are encrypted with. */
  get keyId(): string {
    return this.current.id;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => this.encrypt(p))));
  }

  /** Rejects with `PayloadDecryptionFailed` or `PlaintextPayloadRefused` (never throws synchronously). */
  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => this.decrypt(p))));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
        [METADATA_KEY_ID]: Buffer.from(id),
      },
      data,
    };
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCODING) {
      if (!this.refusePlaintext) return payload;
      throw new PlaintextPayloadRefused(
        'refused a payload that is not encrypted: with CLERK_SYNC_ENCRYPTION_KEY set, this worker runs only what ' +
          'clerk-sync encrypted (a workflow started through its API, with the same key), not a start from a client ' +
          'without the key; set CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS=true while workflows from before the key still run',
      );
    }
    const id = text(payload.metadata?.[METADATA_KEY_ID]);
    if (!id) throw new PayloadDecryptionFailed(`encrypted payload without ${METADATA_KEY_ID} metadata`);
    const key = this.byId.get(id);
    if (!key) {
      throw new PayloadDecryptionFailed(
        `payload encrypted with key id "${id}", which CLERK_SYNC_ENCRYPTION_KEY does not hold ` +
          `(configured: ${[...this.byId.keys()].join(', ')}); add that key back to decrypt it`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionFailed(`encrypted payload (key id "${id}") is truncated`);
    }
    const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw new PayloadDecryptionFailed(
        `encrypted payload (key id "${id}") failed authentication: altered, or a different key under that id`,
        err,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
