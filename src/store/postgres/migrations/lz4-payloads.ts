// PostgreSQL migration 7: the columns that hold bodies, calls and step payloads compressed with
// lz4 instead of pglz. TOAST compresses every value over about 2 KB, and a delivery stores two
// (the body and the call): pglz costs several times lz4's CPU for them, on the server that
// shares the machine with the service (docs/performance.md).
import type { Migration } from '../../sql/migrate.js';

export const LZ4_PAYLOADS: Migration = {
  version: 7,
  name: 'bodies, calls and step payloads compressed with lz4',
  // New values only; rows already stored keep their pglz datums, which read as before. A server
  // built without lz4 (or before PostgreSQL 14, which has no SET COMPRESSION) keeps pglz:
  // EXECUTE, so that is an error caught here rather than one compiling the block.
  sql: `
    DO $mig$
    BEGIN
      EXECUTE 'ALTER TABLE receipts ALTER COLUMN raw_body SET COMPRESSION lz4';
      EXECUTE 'ALTER TABLE revisions ALTER COLUMN call_json SET COMPRESSION lz4';
      EXECUTE 'ALTER TABLE step_results ALTER COLUMN input SET COMPRESSION lz4, ALTER COLUMN output SET COMPRESSION lz4, '
        || 'ALTER COLUMN evidence SET COMPRESSION lz4';
    EXCEPTION WHEN feature_not_supported OR syntax_error THEN
      RAISE NOTICE 'lz4 compression not available: %', SQLERRM;
    END
    $mig$;
  `,
};
