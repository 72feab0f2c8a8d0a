import type { Context } from 'koa';
import { hasBearer, requireBearer } from '../../src/api/bearer';
import { HttpError } from '../../src/api/errors';

const KEY = 'k3y-0f-the-operat0r';

describe('hasBearer: the operator API and the codec server accept the key, and only the key', () => {
  test.each([
    ['the key', `Bearer ${KEY}`, KEY, true],
    ['the scheme in any case', `bEARER ${KEY}`, KEY, true],
    ['no header', '', KEY, false],
    ['another scheme', `Basic ${KEY}`, KEY, false],
    ['the scheme alone', 'Bearer', KEY, false],
    ['two spaces', `Bearer  ${KEY}`, KEY, false],
    ['the key without a scheme', KEY, KEY, false],
    ['a prefix of the key', `Bearer ${KEY.slice(0, -1)}`, KEY, false],
    ['the key and more', `Bearer ${KEY}x`, KEY, false],
    ['same length, other bytes', `Bearer ${KEY.toUpperCase()}`, KEY, false],
    ['a multi-byte key of the same character count', `Bearer ${'é'.repeat(KEY.length)}`, KEY, false],
    ['no key configured', 'Bearer ', undefined, false],
    ['no key configured, any token', `Bearer ${KEY}`, undefined, false],
    ['an empty key configured', 'Bearer ', '', false],
  ])('%s', (_label, header, key, expected) => {
    expect(hasBearer(header, key)).toBe(expected);
  });
});

describe('requireBearer', () => {
  const ctx = (authorization?: string) =>
    ({
      get: (name: string) => (name.toLowerCase() === 'authorization' ? (authorization ?? '') : ''),
    }) as Context;

  it('lets the key through', () => {
    expect(() => requireBearer(ctx(`Bearer ${KEY}`), KEY)).not.toThrow();
  });

  test.each([
    ['without a header', undefined, KEY],
    ['with a wrong key', 'Bearer nope', KEY],
    ['when no key is configured', `Bearer ${KEY}`, undefined],
  ])('answers one 401 shape %s', (_label, header, key) => {
    let thrown: unknown;
    try {
      requireBearer(ctx(header), key);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect(thrown).toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: 'A valid Authorization: Bearer <CLERK_SYNC_API_KEY> header is required',
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  });
});
