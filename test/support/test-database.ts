// PostgreSQL for tests: TEST_DATABASE_URL names a server (CI sets it); each test file gets its
// own schema, reached through `search_path` in the connection string, and drops it afterwards.
// Without TEST_DATABASE_URL the PostgreSQL tests are skipped, loudly.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

/** Call at the top of a test file; prints why its PostgreSQL tests do not run. */
export function warnWhenNoDatabase(file: string): void {
  if (TEST_DATABASE_URL) return;
  console.warn(
    `\n⚠️  ${file}: PostgreSQL tests SKIPPED because TEST_DATABASE_URL is not set.\n` +
      '   Run them with TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (CI sets it).\n',
  );
}

/** The same server and database, with `schema` first on the search path (libpq `options`). */
export function urlWithSchema(url: string, schema: string, applicationName = 'aftercall'): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  u.searchParams.set('application_name', applicationName);
  return u.toString();
}

export interface TestSchema {
  name: string;
  /** TEST_DATABASE_URL pointing into the schema. */
  url: string;
  /** A connection of the test's own, inside the schema, to look at or prepare tables. */
  admin: pg.Pool;
  /** Empties every table, so a store opened next starts from nothing. */
  truncate(): Promise<void>;
  drop(): Promise<void>;
}

export async function createTestSchema(prefix = 'aftercall_test'): Promise<TestSchema> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const url = urlWithSchema(TEST_DATABASE_URL, name, name);
  const admin = new pg.Pool({ connectionString: urlWithSchema(TEST_DATABASE_URL, name, `${name}_admin`), max: 2 });
  admin.on('error', () => undefined);
  await admin.query(`CREATE SCHEMA ${name}`);
  return {
    name,
    url,
    admin,
    async truncate() {
      const { rows } = await admin.query<{ tablename: string }>(
        `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`,
        [name],
      );
      if (rows.length > 0) await admin.query(`TRUNCATE ${rows.map((r) => r.tablename).join(', ')} RESTART IDENTITY CASCADE`);
    },
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await admin.end();
    },
  };
}
