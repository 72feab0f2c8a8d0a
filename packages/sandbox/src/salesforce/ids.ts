/** Salesforce record ids: a 3-char key prefix, a 15-char case-sensitive body and a 3-char case-safe suffix. */

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** Key prefixes the sandbox hands out for standard objects. */
export const KEY_PREFIX = { Account: '001', Contact: '003', User: '005', Organization: '00D' } as const;

/** The 3-char suffix: one letter per 5-char chunk, bit i set when char i of the chunk is upper case. */
function caseSafeSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id15.charAt(chunk * 5 + i);
      if (ch >= 'A' && ch <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** The 18-char form of a 15-char id. */
export function toId18(id15: string): string {
  return id15 + caseSafeSuffix(id15);
}

/**
 * Canonical 18-char id for a 15- or 18-char input, or undefined when the input is not shaped like an id.
 * An 18-char id is case-insensitive (its suffix restores the case), so `001…aaa` and `001…AAA` are the same record.
 */
export function normalizeId(input: string): string | undefined {
  if (!ID_SHAPE.test(input)) return undefined;
  if (input.length === 15) return toId18(input);
  const suffix = input.slice(15).toUpperCase();
  let body = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SUFFIX_ALPHABET.indexOf(suffix.charAt(chunk));
    if (bits < 0) return undefined;
    for (let i = 0; i < 5; i++) {
      const ch = input.charAt(chunk * 5 + i);
      body += bits & (1 << i) ? ch.toUpperCase() : ch.toLowerCase();
    }
  }
  return body + suffix;
}

/** The 15-char form, as Salesforce quotes ids in error messages. */
export function toId15(id: string): string {
  return id.slice(0, 15);
}

/** Hands out unique ids per key prefix; the counter survives resets so an old id never names a new record. */
export class IdFactory {
  private counter = 0;

  constructor(private readonly pod: string = '5g') {}

  /** A fresh 18-char id for `prefix` (e.g. `001`). */
  next(prefix: string): string {
    this.counter += 1;
    let n = this.counter;
    let digits = '';
    while (n > 0) {
      digits = BASE62.charAt(n % 62) + digits;
      n = Math.floor(n / 62);
    }
    return toId18(prefix + this.pod + digits.padStart(10, '0'));
  }
}
