import { randomInt } from 'node:crypto';
import { toId18 as sandboxToId18 } from '@clerk-sync/sandbox';
import { toId18 } from '../../src/shared/salesforce-id';

// Issue 12 "Operator API ids": one record, one id string, whichever form Salesforce or a person gave.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const randomId15 = () =>
  '001' + Array.from({ length: 12 }, () => BASE62.charAt(randomInt(BASE62.length))).join('');

describe('toId18', () => {
  test.each([
    ['0015g00000ABCDE', '0015g00000ABCDEAA5'],
    ['001000000000001', '001000000000001AAA'],
    ['001Dn00000bXyZq', '001Dn00000bXyZqIAK'],
  ])('appends the case-safe suffix to a 15-character id: %s', (id15, id18) => {
    expect(toId18(id15)).toBe(id18);
    expect(toId18(id18)).toBe(id18);
  });

  it('gives one string for the 15- and 18-character forms of a record, and for the 18 in any case', () => {
    for (let n = 0; n < 200; n++) {
      const id15 = randomId15();
      const id18 = toId18(id15)!;
      expect(id18).toBe(sandboxToId18(id15)); // the sandbox's ids are what Salesforce hands out
      for (const form of [id18, id18.toLowerCase(), id18.toUpperCase(), id15 + id18.slice(15).toLowerCase()])
        expect({ form, id: toId18(form) }).toEqual({ form, id: id18 });
    }
  });

  it('keeps case variants of a 15-character id apart: they are different records', () => {
    expect(toId18('0015g00000abcde')).toBe('0015g00000abcdeAAA');
    expect(toId18('0015g00000ABCDE')).toBe('0015g00000ABCDEAA5');
  });

  test.each([
    ['a suffix letter outside the alphabet', '0015g00000ABCDEAA9'],
    ['a suffix that marks a digit as upper case', '001000000000001AAB'],
    ['16 characters', '0015g00000ABCDEA'],
    ['14 characters', '0015g00000ABCD'],
    ['a character ids do not have', '0015g00000ABCD-AA5'],
    ['nothing', ''],
  ])('refuses %s', (_, id) => {
    expect(toId18(id)).toBeUndefined();
  });
});
