import { randomBytes } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  dataConverter,
  EncryptionCodec,
  FAILURE_CONVERTER_PATH,
  PayloadDecryptionFailed,
  PlaintextPayloadRefused,
} from '../../src/codec';
import { ENCODING, METADATA_KEY_ID } from '../../src/codec/encryption-codec';
import { failureConverter } from '../../src/codec/failure-converter';

// Issue 6 "Histories without plain PII": AES-256-GCM with key ids, so keys rotate and tampering shows.

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const person = { email: 'ada.lovelace@example.com', first_name: 'Ada', last_name: 'Lovelace' };
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('EncryptionCodec', () => {
  const current = key('2025-06');
  const codec = new EncryptionCodec([current]);

  it('round-trips a payload, metadata included, and keeps nothing of it readable', async () => {
    const original = payloadOf(person);
    const [encrypted] = await codec.encode([original]);

    expect(text(encrypted!.metadata!.encoding)).toBe(ENCODING);
    expect(text(encrypted!.metadata![METADATA_KEY_ID])).toBe('2025-06');
    expect(Object.keys(encrypted!.metadata!).sort()).toEqual(['encoding', METADATA_KEY_ID].sort());
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toMatch(/Lovelace|example\.com|json/);

    const [decoded] = await codec.decode([encrypted!]);
    expect(text(decoded!.metadata!.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(person);
  });

  it('uses a fresh 12-byte IV for every payload: the same value never encrypts the same way twice', async () => {
    const [a, b] = await codec.encode([payloadOf(person), payloadOf(person)]);
    const ivA = Buffer.from(a!.data!).subarray(0, 12);
    const ivB = Buffer.from(b!.data!).subarray(0, 12);
    expect(ivA.equals(ivB)).toBe(false);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('refuses a payload whose ciphertext, IV or tag was altered (GCM authentication)', async () => {
    const [encrypted] = await codec.encode([payloadOf(person)]);
    const data = Buffer.from(encrypted!.data!);
    for (const at of [0, 12, data.length - 1]) {
      const altered = Buffer.from(data);
      altered[at] = altered[at]! ^ 0x01;
      await expect(codec.decode([{ ...encrypted!, data: altered }])).rejects.toThrow(
        /key id "2025-06"\) failed authentication/,
      );
    }
  });

  it('refuses a payload relabelled with another configured key id (the id is authenticated data)', async () => {
    const other = key('other');
    const both = new EncryptionCodec([current, other]);
    const [encrypted] = await both.encode([payloadOf(person)]);
    const relabelled = {
      ...encrypted!,
      metadata: { ...encrypted!.metadata, [METADATA_KEY_ID]: Buffer.from('other') },
    };
    await expect(both.decode([relabelled])).rejects.toBeInstanceOf(PayloadDecryptionFailed);
  });

  it('rotation: encrypts with the first key and still decrypts what the second (older) key encrypted', async () => {
    const old = key('2024-01');
    const [before] = await new EncryptionCodec([old]).encode([payloadOf(person)]);

    const rotated = new EncryptionCodec([current, old]);
    expect(rotated.keyId).toBe('2025-06');
    const [after] = await rotated.encode([payloadOf(person)]);
    expect(text(after!.metadata![METADATA_KEY_ID])).toBe('2025-06');

    const decoded = await rotated.decode([before!, after!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([person, person]);
  });

  it('names the key id it does not hold, and the ones it does', async () => {
    const [encrypted] = await new EncryptionCodec([key('retired')]).encode([payloadOf(person)]);
    const decoding = codec.decode([encrypted!]);
    await expect(decoding).rejects.toBeInstanceOf(PayloadDecryptionFailed);
    await expect(decoding).rejects.toThrow(
      'payload encrypted with key id "retired", which CLERK_SYNC_ENCRYPTION_KEY does not hold (configured: 2025-06)',
    );
  });

  it('passes through payloads it did not encrypt: histories from before a key was configured still decode', async () => {
    const plain = [payloadOf(person), payloadOf(undefined), payloadOf(new Uint8Array([1, 2, 3]))];
    await expect(codec.decode(plain)).resolves.toEqual(plain);
  });

  // Issue 12: a worker with keys runs only what clerk-sync encrypted.
  it("with plaintext: 'refuse', rejects a payload it did not encrypt, naming why and the migration setting", async () => {
    const strict = new EncryptionCodec([current], { plaintext: 'refuse' });
    const [encrypted] = await strict.encode([payloadOf(person)]);
    const [decoded] = await strict.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(person);
    for (const plain of [payloadOf(person), payloadOf(undefined), { data: new Uint8Array([1]) }]) {
      const decoding = strict.decode([encrypted!, plain]);
      await expect(decoding).rejects.toBeInstanceOf(PlaintextPayloadRefused);
      await expect(decoding).rejects.toThrow(/not encrypted.*CLERK_SYNC_ALLOW_PLAINTEXT_INPUTS=true/);
    }
  });

  it('rejects a configuration it cannot use unambiguously', () => {
    expect(() => new EncryptionCodec([])).toThrow('at least one key');
    expect(() => new EncryptionCodec([current, { id: '2025-06', key: randomBytes(32) }])).toThrow(
      'appears twice',
    );
    expect(() => new EncryptionCodec([{ id: 'short', key: randomBytes(16) }])).toThrow('32 bytes');
  });
});

describe('dataConverter', () => {
  it('is the SDK default without keys', () => {
    expect(dataConverter([])).toBeUndefined();
  });

  it("passes plaintext through by default (clients read old histories) and refuses it with plaintext: 'refuse'", async () => {
    const keys = [key('k1')];
    const plain = payloadOf(person);
    await expect(dataConverter(keys)!.payloadCodecs![0]!.decode([plain])).resolves.toEqual([plain]);
    await expect(
      dataConverter(keys, { plaintext: 'refuse' })!.payloadCodecs![0]!.decode([plain]),
    ).rejects.toBeInstanceOf(PlaintextPayloadRefused);
  });

  it('with keys: the encryption codec, and a failure converter that moves messages and stacks into a payload', () => {
    const converter = dataConverter([key('k1')])!;
    expect(converter.payloadCodecs).toEqual([expect.any(EncryptionCodec)]);
    expect(converter.failureConverterPath).toBe(FAILURE_CONVERTER_PATH);

    const failure = failureConverter.errorToFailure(
      ApplicationFailure.create({ type: 'SalesforceRejected', message: `DUPLICATE_VALUE: ${person.email}` }),
      defaultPayloadConverter,
    );
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    expect(defaultPayloadConverter.fromPayload(failure.encodedAttributes!)).toMatchObject({
      message: `DUPLICATE_VALUE: ${person.email}`,
    });
  });
});
