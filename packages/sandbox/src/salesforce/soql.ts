import type { SalesforceError } from './errors';
import { badRequest } from './errors';
import { normalizeId } from './ids';
import { recordUrl, type SalesforceOrg } from './org';
import type { FieldDef, SObjectDef } from './schema';
import type { StoredRecord } from './store';
import { asText } from './values';

/** A query result page as REST answers it. */
export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'date'; value: string }
  | { kind: 'datetime'; value: number };

interface PathRef {
  parts: string[];
  pos: number;
}

type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'compare'; field: PathRef; op: '=' | '!=' | '<' | '>' | '<=' | '>='; value: Literal; pos: number }
  | { kind: 'in'; field: PathRef; values: Literal[]; negate: boolean; pos: number }
  | { kind: 'like'; field: PathRef; pattern: string; negate: boolean; pos: number };

interface SelectItem {
  kind: 'field' | 'count';
  path?: PathRef;
  alias?: string;
}

interface ParsedQuery {
  select: SelectItem[];
  countOnly: boolean;
  from: string;
  fromPos: number;
  alias?: string;
  where?: Condition;
  orderBy: { path: PathRef; desc: boolean; nullsFirst: boolean }[];
  limit?: number;
  offset?: number;
}

/** A field path resolved against the schema: the lookups to follow, then the field. */
interface ResolvedPath {
  hops: FieldDef[];
  field: FieldDef;
  keys: string[];
}

interface Token {
  type: 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'symbol' | 'end';
  text: string;
  value?: string;
  pos: number;
}

const KEYWORDS = new Set(
  'SELECT FROM WHERE AND OR NOT IN LIKE ORDER BY ASC DESC NULLS FIRST LAST LIMIT OFFSET NULL TRUE FALSE GROUP HAVING FOR WITH USING INCLUDES EXCLUDES'.split(
    ' ',
  ),
);
const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
};
const TEXT_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist']);
const DEFAULT_BATCH = 2000;
/** Salesforce's documented default limit on the length of a SOQL statement. */
export const MAX_SOQL_LENGTH = 100_000;

/** Splits SOQL into tokens; string literals are unescaped except `\%` and `\_`, which LIKE still needs. */
function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const ch = soql.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= soql.length) throw malformed(soql, start, 'unterminated string literal');
        const c = soql.charAt(i);
        if (c === "'") break;
        if (c === '\\') {
          const next = soql.charAt(i + 1);
          if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(soql.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(soql.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (next === '%' || next === '_') value += `\\${next}`;
          else if (ESCAPES[next] !== undefined) value += ESCAPES[next];
          else
            throw malformed(
              soql,
              i,
              `Invalid string literal '${soql.slice(start, i + 2)}'. Illegal character sequence '\\${next}' in string literal.`,
            );
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      i++;
      tokens.push({ type: 'string', text: soql.slice(start, i), value, pos: start });
      continue;
    }
    const rest = soql.slice(i);
    const datetime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/.exec(rest);
    const date = /^\d{4}-\d{2}-\d{2}(?![\d:T])/.exec(rest);
    const number = /^-?\d+(\.\d+)?(?![\w.])/.exec(rest);
    const ident = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest);
    const symbol = /^(!=|<>|<=|>=|=|<|>|\(|\)|,)/.exec(rest);
    const match: [Token['type'], RegExpExecArray | null][] = [
      ['datetime', datetime],
      ['date', date],
      ['number', number],
      ['ident', ident],
      ['symbol', symbol],
    ];
    const hit = match.find(([, m]) => m !== null);
    if (!hit) throw malformed(soql, i, `unexpected token: '${ch}'`);
    const text = hit[1]![0];
    tokens.push({ type: hit[0], text, pos: start });
    i += text.length;
  }
  tokens.push({ type: 'end', text: '', pos: soql.length });
  return tokens;
}

/** MALFORMED_QUERY shaped as Salesforce prints it: the query, a caret, then Row/Column. */
function malformed(
  soql: string,
  pos: number,
  message: string,
  errorCode = 'MALFORMED_QUERY',
): SalesforceError {
  const before = soql.slice(0, pos);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = pos - lineStart + 1;
  const line = soql.split('\n')[row - 1] ?? '';
  return badRequest(
    errorCode,
    `\n${line}\n${' '.repeat(Math.max(column - 1, 0))}^\nERROR at Row:${row}:Column:${column}\n${message}`,
  );
}

/** A recursive-descent parser for the SOQL subset the sync needs. */
class Parser {
  private i = 0;

  constructor(
    private readonly soql: string,
    private readonly tokens: Token[],
  ) {}

  parse(): ParsedQuery {
    this.expectKeyword('SELECT');
    const select: SelectItem[] = [];
    let countOnly = false;
    do {
      if (this.isKeyword('COUNT') && this.peek(1).text === '(') {
        this.i += 2;
        if (this.peek().text === ')') {
          this.i++;
          countOnly = true;
          select.push({ kind: 'count' });
        } else {
          const path = this.path();
          this.expectSymbol(')');
          const alias = this.peek().type === 'ident' && !this.isAnyKeyword() ? this.next().text : undefined;
          select.push({ kind: 'count', path, alias });
        }
      } else if (this.peek().text === '(') {
        throw this.error('subqueries are not supported by the sandbox');
      } else {
        select.push({ kind: 'field', path: this.path() });
      }
    } while (this.acceptSymbol(','));
    if (countOnly && select.length > 1)
      throw this.error('COUNT() must be the only element in the SELECT list');
    this.expectKeyword('FROM');
    const fromToken = this.next();
    if (fromToken.type !== 'ident') throw this.error(`unexpected token: '${fromToken.text}'`, fromToken.pos);
    const query: ParsedQuery = {
      select,
      countOnly,
      from: fromToken.text,
      fromPos: fromToken.pos,
      orderBy: [],
    };
    if (this.peek().type === 'ident' && !this.isAnyKeyword()) query.alias = this.next().text;
    if (this.acceptKeyword('WHERE')) query.where = this.condition();
    if (this.acceptKeyword('ORDER')) {
      this.expectKeyword('BY');
      do {
        const path = this.path();
        let desc = false;
        if (this.acceptKeyword('DESC')) desc = true;
        else this.acceptKeyword('ASC');
        let nullsFirst = !desc;
        if (this.acceptKeyword('NULLS')) {
          if (this.acceptKeyword('FIRST')) nullsFirst = true;
          else {
            this.expectKeyword('LAST');
            nullsFirst = false;
          }
        }
        query.orderBy.push({ path, desc, nullsFirst });
      } while (this.acceptSymbol(','));
    }
    if (this.acceptKeyword('LIMIT')) query.limit = this.integer();
    if (this.acceptKeyword('OFFSET')) query.offset = this.integer();
    if (this.acceptKeyword('FOR')) {
      const what = this.next();
      if (!/^(UPDATE|VIEW|REFERENCE)$/i.test(what.text))
        throw this.error(`unexpected token: '${what.text}'`, what.pos);
    }
    const tail = this.peek();
    if (tail.type !== 'end') throw this.error(`unexpected token: '${tail.text}'`, tail.pos);
    return query;
  }

  /** AND and OR may not mix at one level without parentheses, as in Salesforce. */
  private condition(): Condition {
    const first = this.unary();
    const items = [first];
    let op: 'and' | 'or' | undefined;
    for (;;) {
      const word = this.isKeyword('AND') ? 'and' : this.isKeyword('OR') ? 'or' : undefined;
      if (!word) break;
      if (op && op !== word) throw this.error(`unexpected token: '${this.peek().text}'`);
      op = word;
      this.i++;
      items.push(this.unary());
    }
    return op ? { kind: op, items } : first;
  }

  private unary(): Condition {
    if (this.acceptKeyword('NOT')) return { kind: 'not', item: this.unary() };
    if (this.acceptSymbol('(')) {
      const inner = this.condition();
      this.expectSymbol(')');
      return inner;
    }
    const field = this.path();
    const opToken = this.peek();
    if (this.acceptKeyword('NOT')) {
      if (this.acceptKeyword('IN'))
        return { kind: 'in', field, values: this.list(), negate: true, pos: opToken.pos };
      this.expectKeyword('LIKE');
      return { kind: 'like', field, pattern: this.stringLiteral(), negate: true, pos: opToken.pos };
    }
    if (this.acceptKeyword('IN'))
      return { kind: 'in', field, values: this.list(), negate: false, pos: opToken.pos };
    if (this.acceptKeyword('LIKE'))
      return { kind: 'like', field, pattern: this.stringLiteral(), negate: false, pos: opToken.pos };
    if (opToken.type === 'symbol' && /^(=|!=|<>|<|>|<=|>=)$/.test(opToken.text)) {
      this.i++;
      const op = opToken.text === '<>' ? '!=' : (opToken.text as '=' | '!=' | '<' | '>' | '<=' | '>=');
      return { kind: 'compare', field, op, value: this.literal(), pos: opToken.pos };
    }
    throw this.error(`unexpected token: '${opToken.text}'`, opToken.pos);
  }

  private list(): Literal[] {
    this.expectSymbol('(');
    if (this.isKeyword('SELECT')) throw this.error('semi-join subqueries are not supported by the sandbox');
    const values: Literal[] = [];
    do values.push(this.literal());
    while (this.acceptSymbol(','));
    this.expectSymbol(')');
    return values;
  }

  private literal(): Literal {
    const token = this.next();
    switch (token.type) {
      case 'string':
        return { kind: 'string', value: token.value ?? '' };
      case 'number':
        return { kind: 'number', value: Number(token.text) };
      case 'date':
        return { kind: 'date', value: token.text };
      case 'datetime':
        return { kind: 'datetime', value: Date.parse(token.text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) };
      case 'ident': {
        const upper = token.text.toUpperCase();
        if (upper === 'NULL') return { kind: 'null' };
        if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE' };
        break;
      }
      default:
        break;
    }
    throw this.error(`unexpected token: '${token.text}'`, token.pos);
  }

  private stringLiteral(): string {
    const token = this.next();
    if (token.type !== 'string') throw this.error(`unexpected token: '${token.text}'`, token.pos);
    return token.value ?? '';
  }

  private integer(): number {
    const token = this.next();
    if (token.type !== 'number' || !/^\d+$/.test(token.text))
      throw this.error(`unexpected token: '${token.text}'`, token.pos);
    return Number(token.text);
  }

  private path(): PathRef {
    const token = this.next();
    if (token.type !== 'ident' || KEYWORDS.has(token.text.toUpperCase())) {
      throw this.error(`unexpected token: '${token.text}'`, token.pos);
    }
    return { parts: token.text.split('.'), pos: token.pos };
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return token;
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token.type === 'ident' && token.text.toUpperCase() === word;
  }

  private isAnyKeyword(): boolean {
    return KEYWORDS.has(this.peek().text.toUpperCase());
  }

  private acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.i++;
    return true;
  }

  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) throw this.error(`unexpected token: '${this.peek().text}'`);
  }

  private acceptSymbol(symbol: string): boolean {
    const token = this.peek();
    if (token.type !== 'symbol' || token.text !== symbol) return false;
    this.i++;
    return true;
  }

  private expectSymbol(symbol: string): void {
    if (!this.acceptSymbol(symbol)) throw this.error(`unexpected token: '${this.peek().text}'`);
  }

  private error(message: string, pos = this.peek().pos): SalesforceError {
    return malformed(this.soql, pos, message);
  }
}

interface Cursor {
  records: Record<string, unknown>[];
  totalSize: number;
}

/** Runs SOQL against the org and keeps the cursors behind `nextRecordsUrl`. */
export class SoqlEngine {
  private readonly cursors = new Map<string, Cursor>();
  private nextCursor = 1;

  constructor(private readonly org: SalesforceOrg) {}

  /** Executes a query (`includeDeleted` for queryAll) and returns its first page. */
  query(
    soql: string,
    options: { includeDeleted: boolean; batchSize?: number; apiVersion: number },
  ): QueryPage {
    // Over REST a statement this long cannot arrive (a URL stops at 16,384 characters); the check is for completeness.
    if (soql.length > MAX_SOQL_LENGTH) {
      throw badRequest('MALFORMED_QUERY', 'SOQL statements cannot be longer than 100,000 characters');
    }
    const parsed = new Parser(soql, tokenize(soql)).parse();
    const obj = this.org.schema.object(parsed.from);
    if (!obj) {
      throw malformed(
        soql,
        parsed.fromPos,
        `sObject type '${parsed.from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
        'INVALID_TYPE',
      );
    }
    const resolve = (ref: PathRef): ResolvedPath => this.resolve(soql, obj, parsed.alias, ref);
    const predicate = parsed.where ? this.compile(soql, parsed.where, resolve) : () => true;
    const order = parsed.orderBy.map((o) => ({ ...o, resolved: resolve(o.path) }));
    const selected = parsed.select
      .filter((s) => s.path)
      .map((s) => ({ item: s, resolved: resolve(s.path!) }));
    if ((parsed.offset ?? 0) > 2000) {
      throw badRequest('NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000');
    }

    let rows = this.candidates(obj, parsed.where, options.includeDeleted, resolve).filter(
      (r) => (options.includeDeleted || r.values.IsDeleted !== true) && predicate(r),
    );
    if (order.length > 0) {
      rows = [...rows].sort((a, b) => {
        for (const { resolved, desc, nullsFirst } of order) {
          const x = comparable(resolved.field, this.valueAt(a, resolved));
          const y = comparable(resolved.field, this.valueAt(b, resolved));
          if (x === y) continue;
          if (x === null) return nullsFirst ? -1 : 1;
          if (y === null) return nullsFirst ? 1 : -1;
          return (x < y ? -1 : 1) * (desc ? -1 : 1);
        }
        return 0;
      });
    }
    rows = rows.slice(
      parsed.offset ?? 0,
      parsed.limit !== undefined ? (parsed.offset ?? 0) + parsed.limit : undefined,
    );

    if (parsed.countOnly) return { totalSize: rows.length, done: true, records: [] };
    const counts = parsed.select.filter((s) => s.kind === 'count');
    if (counts.length > 0) {
      const aggregate: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
      counts.forEach((c, n) => {
        const resolved = resolve(c.path!);
        aggregate[c.alias ?? `expr${n}`] = rows.filter((r) => this.valueAt(r, resolved) != null).length;
      });
      return { totalSize: 1, done: true, records: [aggregate] };
    }
    const records = rows.map((r) =>
      this.shape(
        r,
        obj,
        selected.map((s) => s.resolved),
        options.apiVersion,
      ),
    );
    return this.page({ records, totalSize: records.length }, 0, options.batchSize, options.apiVersion);
  }

  /** The page of a cursor starting at `position` (`query/<locator>-<position>`). */
  more(locator: string, options: { batchSize?: number; apiVersion: number }): QueryPage {
    const [id = '', position = ''] = locator.split('-');
    const cursor = this.cursors.get(id);
    if (!cursor || !/^\d+$/.test(position)) {
      throw badRequest('INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    return this.page(cursor, Number(position), options.batchSize, options.apiVersion, id);
  }

  /** Drops every open cursor. */
  reset(): void {
    this.cursors.clear();
  }

  private page(
    cursor: Cursor,
    position: number,
    batchSize: number | undefined,
    apiVersion: number,
    existing?: string,
  ): QueryPage {
    const size = Math.min(Math.max(batchSize ?? DEFAULT_BATCH, 200), DEFAULT_BATCH);
    const records = cursor.records.slice(position, position + size);
    const end = position + records.length;
    if (end >= cursor.records.length) {
      if (existing) this.cursors.delete(existing);
      return { totalSize: cursor.totalSize, done: true, records };
    }
    let id = existing;
    if (!id) {
      id = `01g5g${String(this.nextCursor++).padStart(10, '0')}`;
      this.cursors.set(id, cursor);
      // Abandoned cursors would pile up under a long benchmark: keep the newest few hundred, as an org times them out.
      if (this.cursors.size > 500) this.cursors.delete(this.cursors.keys().next().value!);
    }
    return {
      totalSize: cursor.totalSize,
      done: false,
      nextRecordsUrl: `/services/data/v${apiVersion.toFixed(1)}/query/${id}-${end}`,
      records,
    };
  }

  /** Narrows the scan with an index when the filter pins a field (or a parent's field) with `=` or IN. */
  private candidates(
    obj: SObjectDef,
    where: Condition | undefined,
    includeDeleted: boolean,
    resolve: (ref: PathRef) => ResolvedPath,
  ): StoredRecord[] {
    const conjuncts = where === undefined ? [] : where.kind === 'and' ? where.items : [where];
    if (!includeDeleted) {
      for (const c of conjuncts) {
        if (c.kind !== 'compare' && c.kind !== 'in') continue;
        const values =
          c.kind === 'compare' ? (c.op === '=' ? [c.value] : undefined) : c.negate ? undefined : c.values;
        if (!values || values.some((v) => v.kind !== 'string')) continue;
        const path = resolve(c.field);
        if (path.hops.length > 1 || !isIndexable(path.field)) continue;
        const keys = (values as { kind: 'string'; value: string }[]).map((v) =>
          this.indexValue(path.field, v.value),
        );
        if (path.hops.length === 0)
          return unique(keys.flatMap((k) => this.org.store.lookup(obj.name, path.field.name, k)));
        const hop = path.hops[0]!;
        const parentType = hop.referenceTo!;
        const parents = keys.flatMap((k) => this.org.store.lookup(parentType, path.field.name, k));
        return unique(parents.flatMap((p) => this.org.store.lookup(obj.name, hop.name, p.values.Id)));
      }
    }
    return [...this.org.store.all(obj.name)];
  }

  private indexValue(field: FieldDef, value: string): string {
    return field.type === 'id' || field.type === 'reference' ? (normalizeId(value) ?? value) : value;
  }

  private resolve(soql: string, obj: SObjectDef, alias: string | undefined, ref: PathRef): ResolvedPath {
    let parts = ref.parts;
    if (alias && parts.length > 1 && parts[0]!.toLowerCase() === alias.toLowerCase()) parts = parts.slice(1);
    const hops: FieldDef[] = [];
    const keys: string[] = [];
    let current = obj;
    for (const part of parts.slice(0, -1)) {
      const hop = current.relationships.get(part.toLowerCase());
      const target = hop?.referenceTo ? this.org.schema.object(hop.referenceTo) : undefined;
      if (!hop || !target) {
        throw malformed(
          soql,
          ref.pos,
          `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
          'INVALID_FIELD',
        );
      }
      hops.push(hop);
      keys.push(hop.relationshipName!);
      current = target;
    }
    const name = parts[parts.length - 1]!;
    const field = this.org.schema.fieldForRead(current, name);
    if (!field) {
      throw malformed(
        soql,
        ref.pos,
        `No such column '${name}' on entity '${current.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        'INVALID_FIELD',
      );
    }
    keys.push(field.name);
    return { hops, field, keys };
  }

  private valueAt(record: StoredRecord, path: ResolvedPath): unknown {
    let current: StoredRecord | undefined = record;
    for (const hop of path.hops) {
      const id: unknown = current.values[hop.name];
      current = typeof id === 'string' ? this.org.store.get(id) : undefined;
      if (!current) return null;
    }
    return current.values[path.field.name] ?? null;
  }

  private compile(
    soql: string,
    cond: Condition,
    resolve: (ref: PathRef) => ResolvedPath,
  ): (r: StoredRecord) => boolean {
    switch (cond.kind) {
      case 'and': {
        const parts = cond.items.map((c) => this.compile(soql, c, resolve));
        return (r) => parts.every((p) => p(r));
      }
      case 'or': {
        const parts = cond.items.map((c) => this.compile(soql, c, resolve));
        return (r) => parts.some((p) => p(r));
      }
      case 'not': {
        const inner = this.compile(soql, cond.item, resolve);
        return (r) => !inner(r);
      }
      case 'like': {
        const path = resolve(cond.field);
        const regex = likeRegex(cond.pattern);
        return (r) => {
          const v = this.valueAt(r, path);
          const hit = v !== null && regex.test(asText(v));
          return cond.negate ? !hit : hit;
        };
      }
      case 'in': {
        const path = resolve(cond.field);
        const field = retype(path.field, cond.values[0]);
        const wanted = new Set(cond.values.map((v) => literalFor(soql, field, v, cond.pos)));
        return (r) => {
          const hit = wanted.has(comparable(field, this.valueAt(r, path)));
          return cond.negate ? !hit : hit;
        };
      }
      case 'compare': {
        const path = resolve(cond.field);
        const field = retype(path.field, cond.value);
        const want = literalFor(soql, field, cond.value, cond.pos);
        const op = cond.op;
        return (r) => {
          const have = comparable(field, this.valueAt(r, path));
          if (op === '=') return have === want;
          if (op === '!=') return have !== want;
          if (have === null || want === null) return false;
          if (op === '<') return have < want;
          if (op === '>') return have > want;
          if (op === '<=') return have <= want;
          return have >= want;
        };
      }
    }
  }

  /** The REST shape of a row: `attributes`, the selected fields, parents as nested objects (or null). */
  private shape(
    record: StoredRecord,
    obj: SObjectDef,
    paths: ResolvedPath[],
    apiVersion: number,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = { attributes: attributes(obj.name, record, apiVersion) };
    for (const path of paths) {
      let target = out;
      let current: StoredRecord | undefined = record;
      let complete = true;
      path.hops.forEach((hop, n) => {
        if (!complete) return;
        const key = path.keys[n]!;
        const id = current?.values[hop.name];
        const parent = typeof id === 'string' ? this.org.store.get(id) : undefined;
        if (!parent) {
          if (!(key in target)) target[key] = null;
          complete = false;
          return;
        }
        const existing = target[key];
        const nested =
          existing && typeof existing === 'object'
            ? (existing as Record<string, unknown>)
            : { attributes: attributes(parent.type, parent, apiVersion) };
        target[key] = nested;
        target = nested;
        current = parent;
      });
      if (complete && current) target[path.field.name] = current.values[path.field.name] ?? null;
    }
    return out;
  }
}

function attributes(type: string, record: StoredRecord, apiVersion: number): { type: string; url: string } {
  return { type, url: recordUrl(apiVersion, type, String(record.values.Id)) };
}

function isIndexable(field: FieldDef): boolean {
  return TEXT_TYPES.has(field.type) || field.type === 'id' || field.type === 'reference';
}

function unique(records: StoredRecord[]): StoredRecord[] {
  return [...new Set(records)];
}

/** A stored value in the form that compares as SOQL does: text case-insensitively, datetimes by instant. */
function comparable(field: FieldDef, value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case 'boolean':
      return value === true;
    case 'double':
      return Number(value);
    case 'datetime':
      return Date.parse(asText(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    case 'date':
      return asText(value);
    case 'anyType':
      if (typeof value === 'string') return value.toLowerCase();
      return value as number | boolean;
    default:
      return asText(value).toLowerCase();
  }
}

/** A literal converted for comparison with `field`; a literal of the wrong kind is Salesforce's INVALID_FIELD. */
function literalFor(
  soql: string,
  field: FieldDef,
  literal: Literal,
  pos: number,
): string | number | boolean | null {
  if (literal.kind === 'null') return null;
  const wrong = (type: string, quoted: boolean): never => {
    throw malformed(
      soql,
      pos,
      `value of filter criterion for field '${field.name}' must be of type ${type} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
      'INVALID_FIELD',
    );
  };
  switch (field.type) {
    case 'boolean':
      return literal.kind === 'boolean' ? literal.value : wrong('boolean', false);
    case 'double':
      return literal.kind === 'number' ? literal.value : wrong('double', false);
    case 'datetime':
      if (literal.kind === 'datetime') return literal.value;
      return wrong('dateTime', false);
    case 'date':
      return literal.kind === 'date' ? literal.value : wrong('date', false);
    case 'id':
    case 'reference': {
      if (literal.kind !== 'string') return wrong('reference', true);
      const id = normalizeId(literal.value);
      if (!id) {
        if (literal.value === '') return null;
        throw malformed(soql, pos, `invalid ID field: ${literal.value}`, 'INVALID_QUERY_FILTER_OPERATOR');
      }
      return id.toLowerCase();
    }
    case 'anyType':
      return literal.kind === 'string' ? literal.value.toLowerCase() : literal.value;
    default:
      if (literal.kind !== 'string') return wrong('string', true);
      // Outside LIKE, \% and \_ are just the characters.
      return literal.value.replace(/\\([%_])/g, '$1').toLowerCase();
  }
}

/** A field accepted without a definition compares as whatever kind of literal it meets. */
function retype(field: FieldDef, literal: Literal | undefined): FieldDef {
  if (field.type !== 'anyType' || !literal) return field;
  const kinds: Partial<Record<Literal['kind'], FieldDef['type']>> = {
    datetime: 'datetime',
    date: 'date',
    number: 'double',
    boolean: 'boolean',
  };
  const type = kinds[literal.kind];
  return type ? { ...field, type } : field;
}

/** LIKE: `%` any run, `_` one character, `\%` and `\_` literal; case-insensitive and anchored. */
function likeRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '\\' && (pattern.charAt(i + 1) === '%' || pattern.charAt(i + 1) === '_')) {
      source += pattern.charAt(i + 1);
      i++;
    } else if (ch === '%') source += '[\\s\\S]*';
    else if (ch === '_') source += '[\\s\\S]';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}
