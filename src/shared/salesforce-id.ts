/** Salesforce record ids: 15 case-sensitive characters, or those and a 3-character suffix that encodes their case. */

/** The suffix alphabet: character n stands for the 5-bit case map n of one 5-character chunk. */
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
const isUpper = (ch: string) => ch >= 'A' && ch <= 'Z';
const isLetter = (ch: string) => isUpper(ch) || (ch >= 'a' && ch <= 'z');

/** The case-safe suffix of a 15-character id: per 5-character chunk, bit i set when character i is A–Z. */
function caseSafeSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) if (isUpper(id15.charAt(chunk * 5 + i))) bits |= 1 << i;
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/**
 * The 18-character form of a record id given in either form, or undefined when it is not one. A 15-character id is
 * case-sensitive; an 18-character one is not (its suffix restores the case of the first 15), so every form of one
 * record gives the same string. Undefined too when the suffix cannot be that of the first 15 (a letter of the
 * suffix outside its alphabet, or an upper-case mark on a digit).
 */
export function toId18(id: string): string | undefined {
  if (!ID_SHAPE.test(id)) return undefined;
  if (id.length === 15) return id + caseSafeSuffix(id);
  const suffix = id.slice(15).toUpperCase();
  let body = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SUFFIX_ALPHABET.indexOf(suffix.charAt(chunk));
    if (bits < 0) return undefined;
    for (let i = 0; i < 5; i++) {
      const ch = id.charAt(chunk * 5 + i);
      const upper = (bits & (1 << i)) !== 0;
      if (upper && !isLetter(ch)) return undefined;
      body += upper ? ch.toUpperCase() : ch.toLowerCase();
    }
  }
  return body + suffix;
}
