// One PostgreSQL schema per test file: made before its tests, dropped after them; the stores a
// test opens with `open` are closed after it.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';
import { createTestSchema, type TestSchema } from './test-database.js';

export interface PostgresSuite {
  readonly schema: TestSchema;
  open(options?: Partial<PostgresStoreOptions>): Promise<PostgresStore>;
  /** Closes the stores opened so far (also done after each test). */
  closeOpened(): Promise<void>;
}

export function postgresSuite(): PostgresSuite {
  let made: TestSchema | undefined;
  const opened: PostgresStore[] = [];
  const schema = (): TestSchema => {
    if (!made) throw new Error('the test schema is made in beforeAll');
    return made;
  };
  beforeAll(async () => {
    made = await createTestSchema();
  });
  const closeOpened = async (): Promise<void> => {
    for (const store of opened.splice(0)) await store.close();
  };
  afterEach(closeOpened);
  afterAll(async () => {
    await made?.drop();
  });
  return {
    get schema() {
      return schema();
    },
    async open(options = {}) {
      const store = await openPostgresStore({ connectionString: schema().url, ...options });
      opened.push(store);
      return store;
    },
    closeOpened,
  };
}
