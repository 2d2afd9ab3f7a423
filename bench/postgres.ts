// PostgreSQL for the ingest figure: the server from BENCH_DATABASE_URL or TEST_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/test), a fresh schema per run that the service
// reaches through `?options=-c%20search_path%3D<schema>`, dropped at the end. An unreachable
// server is not an error: the figure is skipped, saying why.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function benchDatabaseUrl(): { url: string; from: string } {
  const bench = process.env.BENCH_DATABASE_URL?.trim();
  if (bench) return { url: bench, from: 'BENCH_DATABASE_URL' };
  const test = process.env.TEST_DATABASE_URL?.trim();
  if (test) return { url: test, from: 'TEST_DATABASE_URL' };
  return { url: DEFAULT_DATABASE_URL, from: 'default' };
}

/** The URL with any password replaced, for printing. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The same server and database with `schema` as the search path (libpq `options`). */
export function urlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.delete('options');
  const query = u.searchParams.toString();
  u.search = `${query ? `${query}&` : ''}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return u.toString();
}

export interface BenchSchema {
  name: string;
  /** The database URL pointing into the schema. */
  url: string;
  /** Where the server URL came from (env variable or default), and the URL without password. */
  describe: string;
  drop(): Promise<void>;
}

export type SchemaOutcome = { ok: true; schema: BenchSchema } | { ok: false; reason: string };

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000, statement_timeout: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createBenchSchema(): Promise<SchemaOutcome> {
  const { url, from } = benchDatabaseUrl();
  const describe = `${redact(url)} (${from})`;
  const name = `aftercall_bench_${randomBytes(4).toString('hex')}`;
  try {
    await withClient(url, (client) => client.query(`CREATE SCHEMA ${name}`));
  } catch (error) {
    return { ok: false, reason: `PostgreSQL at ${describe} is unreachable or refused: ${(error as Error).message || String(error)}` };
  }
  return {
    ok: true,
    schema: {
      name,
      url: urlWithSchema(url, name),
      describe,
      drop: async () => {
        await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`));
      },
    },
  };
}
