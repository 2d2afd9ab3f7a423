// Fixture payloads from test/fixtures, parsed fresh for every call so tests may mutate them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES_DIR = join(import.meta.dirname, '..', 'fixtures');

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES_DIR, name.endsWith('.json') ? name : `${name}.json`), 'utf8');
}

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.json')).sort();
}
