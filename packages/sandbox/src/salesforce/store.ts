import { asText } from './values';

/** One stored record; `values` is keyed by the fields' API names and always holds Id and IsDeleted. */
export interface StoredRecord {
  readonly type: string;
  values: Record<string, unknown>;
}

type FieldIndex = Map<string, Set<StoredRecord>>;

/**
 * The key a value is indexed under: lower case, as SOQL compares text. Exact matches (a case-sensitive External
 * ID, see SalesforceOrg.matchExternalId) filter the hits of this key.
 */
export function indexKey(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  return asText(value).toLowerCase();
}

/**
 * In-memory tables with lazily built per-field indexes and an undo journal.
 * Indexes hold live records only (IsDeleted = false), so a look-up never scans a table.
 */
export class RecordStore {
  private readonly tables = new Map<string, Map<string, StoredRecord>>();
  private readonly byId = new Map<string, StoredRecord>();
  private readonly indexes = new Map<string, Map<string, FieldIndex>>();
  private journal: (() => void)[] = [];
  private depth = 0;

  /** Every record of `type`, deleted ones included, in creation order. */
  all(type: string): IterableIterator<StoredRecord> {
    return this.table(type).values();
  }

  /** The record with this canonical 18-char id, deleted or not. */
  get(id: string): StoredRecord | undefined {
    return this.byId.get(id);
  }

  /** Live records of `type` whose `field` equals `value` (case-insensitively). */
  lookup(type: string, field: string, value: unknown): StoredRecord[] {
    const key = indexKey(value);
    if (key === undefined) return [];
    const found = this.index(type, field).get(key);
    return found ? [...found] : [];
  }

  /** Adds a record; undone by a rollback. */
  insert(type: string, values: Record<string, unknown>): StoredRecord {
    const record: StoredRecord = { type, values };
    const id = String(values.Id);
    this.table(type).set(id, record);
    this.byId.set(id, record);
    this.addToIndexes(record);
    this.remember(() => {
      this.removeFromIndexes(record);
      this.table(type).delete(id);
      this.byId.delete(id);
    });
    return record;
  }

  /** Replaces a record's values (a new object, so a rollback can put the old one back). */
  write(record: StoredRecord, values: Record<string, unknown>): void {
    const previous = record.values;
    this.removeFromIndexes(record);
    record.values = values;
    this.addToIndexes(record);
    this.remember(() => {
      this.removeFromIndexes(record);
      record.values = previous;
      this.addToIndexes(record);
    });
  }

  /** Opens a savepoint; pair with `commit` or `rollback`. */
  begin(): number {
    this.depth += 1;
    return this.journal.length;
  }

  /** Keeps the writes since the savepoint (an enclosing transaction may still undo them). */
  commit(): void {
    this.depth -= 1;
    if (this.depth === 0) this.journal = [];
  }

  /** Undoes every write since the savepoint, newest first. */
  rollback(savepoint: number): void {
    while (this.journal.length > savepoint) this.journal.pop()!();
    this.depth -= 1;
    if (this.depth === 0) this.journal = [];
  }

  /** Runs `work` as one transaction: all of its writes stay, or none do. */
  transaction<T>(work: () => T): T {
    const savepoint = this.begin();
    try {
      const result = work();
      this.commit();
      return result;
    } catch (err) {
      this.rollback(savepoint);
      throw err;
    }
  }

  /** Undoes every open transaction: the way out after an unexpected error left savepoints open. */
  rollbackAll(): void {
    while (this.depth > 0) this.rollback(0);
  }

  /** Forgets an index after a field's definition changed. */
  dropIndexes(type: string): void {
    this.indexes.delete(type.toLowerCase());
  }

  /** Empties every table. */
  clear(): void {
    this.tables.clear();
    this.byId.clear();
    this.indexes.clear();
    this.journal = [];
    this.depth = 0;
  }

  private table(type: string): Map<string, StoredRecord> {
    const key = type.toLowerCase();
    let table = this.tables.get(key);
    if (!table) {
      table = new Map();
      this.tables.set(key, table);
    }
    return table;
  }

  private index(type: string, field: string): FieldIndex {
    const typeKey = type.toLowerCase();
    let perType = this.indexes.get(typeKey);
    if (!perType) {
      perType = new Map();
      this.indexes.set(typeKey, perType);
    }
    let index = perType.get(field);
    if (!index) {
      index = new Map();
      perType.set(field, index);
      for (const record of this.table(type).values()) {
        if (record.values.IsDeleted !== true) addEntry(index, record.values[field], record);
      }
    }
    return index;
  }

  private addToIndexes(record: StoredRecord): void {
    if (record.values.IsDeleted === true) return;
    const perType = this.indexes.get(record.type.toLowerCase());
    if (!perType) return;
    for (const [field, index] of perType) addEntry(index, record.values[field], record);
  }

  private removeFromIndexes(record: StoredRecord): void {
    const perType = this.indexes.get(record.type.toLowerCase());
    if (!perType) return;
    for (const [field, index] of perType) {
      const key = indexKey(record.values[field]);
      if (key === undefined) continue;
      const set = index.get(key);
      set?.delete(record);
      if (set?.size === 0) index.delete(key);
    }
  }

  private remember(undo: () => void): void {
    if (this.depth > 0) this.journal.push(undo);
  }
}

function addEntry(index: FieldIndex, value: unknown, record: StoredRecord): void {
  const key = indexKey(value);
  if (key === undefined) return;
  let set = index.get(key);
  if (!set) {
    set = new Set();
    index.set(key, set);
  }
  set.add(record);
}
