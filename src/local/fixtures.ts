import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The sample Clerk events shipped in `fixtures/events`, shaped as Clerk sends them. */
export const FIXTURES_DIR = resolve(__dirname, '..', '..', 'fixtures', 'events');

/** A sample event: a fresh copy each call, so a caller may change it. */
export function loadFixture(
  type: string,
): { type: string; data: Record<string, unknown>; timestamp: number } & Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, `${type}.json`), 'utf8')) as ReturnType<
    typeof loadFixture
  >;
}

/** The event types that have a sample. */
export function fixtureTypes(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length));
}
