import { asText } from './values';

/** Just enough XML for the Metadata API's SOAP envelopes: elements, attributes, text, entities, CDATA. */

/** One parsed element; names keep their prefix (`soapenv:Body`), `local` drops it. */
export interface XmlElement {
  name: string;
  local: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

/** Escapes text for an element body or attribute value. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Parses a document and returns its root element; throws on malformed input. */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (why: string): never => {
    throw new Error(`malformed XML at ${pos}: ${why}`);
  };

  const skipMisc = (): void => {
    for (;;) {
      while (pos < source.length && /\s/.test(source.charAt(pos))) pos++;
      if (source.startsWith('<?', pos)) pos = source.indexOf('?>', pos) + 2 || fail('unterminated <?');
      else if (source.startsWith('<!--', pos))
        pos = source.indexOf('-->', pos) + 3 || fail('unterminated comment');
      else if (source.startsWith('<!DOCTYPE', pos)) pos = source.indexOf('>', pos) + 1 || fail('bad doctype');
      else return;
    }
  };

  const parseElement = (): XmlElement => {
    if (source.charAt(pos) !== '<') fail('expected <');
    pos++;
    const nameMatch = /^[^\s/>]+/.exec(source.slice(pos, pos + 200));
    if (!nameMatch) return fail('expected a tag name');
    const name = nameMatch[0];
    pos += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      while (/\s/.test(source.charAt(pos))) pos++;
      if (source.startsWith('/>', pos)) {
        pos += 2;
        return { name, local: localName(name), attrs, children: [], text: '' };
      }
      if (source.charAt(pos) === '>') {
        pos++;
        break;
      }
      const attr = /^([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/.exec(source.slice(pos));
      if (!attr) return fail('bad attribute');
      attrs[attr[1]!] = decodeEntities(attr[3] ?? attr[4] ?? '');
      pos += attr[0].length;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (pos >= source.length) fail(`unterminated <${name}>`);
      if (source.startsWith('</', pos)) {
        const end = source.indexOf('>', pos);
        if (source.slice(pos + 2, end).trim() !== name) fail(`mismatched </${name}>`);
        pos = end + 1;
        return { name, local: localName(name), attrs, children, text };
      }
      if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos);
        if (end < 0) fail('unterminated CDATA');
        text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source.startsWith('<!--', pos)) {
        pos = source.indexOf('-->', pos) + 3 || fail('unterminated comment');
      } else if (source.charAt(pos) === '<') {
        children.push(parseElement());
      } else {
        const next = source.indexOf('<', pos);
        text += decodeEntities(source.slice(pos, next < 0 ? source.length : next));
        pos = next < 0 ? source.length : next;
      }
    }
  };

  skipMisc();
  return parseElement();
}

/** The name without its namespace prefix. */
export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** A JSON-like view of an element's content: text for leaves, objects for parents, arrays for repeated children. */
export type XmlValue = string | null | XmlObject | XmlValue[];
/** An element with child elements, as a plain object. */
export interface XmlObject {
  [key: string]: XmlValue;
}

/** Converts an element's children to an object (repeated names become arrays; `xsi:nil` becomes null). */
export function toValue(el: XmlElement): XmlValue {
  if (Object.entries(el.attrs).some(([k, v]) => localName(k) === 'nil' && v === 'true')) return null;
  if (el.children.length === 0) return el.text;
  const groups = new Map<string, XmlValue[]>();
  for (const child of el.children) {
    const list = groups.get(child.local) ?? [];
    list.push(toValue(child));
    groups.set(child.local, list);
  }
  const obj: XmlObject = {};
  for (const [key, list] of groups) obj[key] = list.length === 1 ? list[0]! : list;
  return obj;
}

/** Serialises a value as child elements of `name`; arrays repeat the element, null becomes `xsi:nil`. */
export function toXml(name: string, value: unknown, attrs = ''): string {
  if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
  if (value === null || value === undefined) return `<${name}${attrs} xsi:nil="true"/>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => toXml(k, v))
      .join('');
    return `<${name}${attrs}>${inner}</${name}>`;
  }
  return `<${name}${attrs}>${escapeXml(asText(value))}</${name}>`;
}
