// PostgreSQL migration 11: what the Runs page reads (sender headers, dismissed quarantine, the
// search vector, call and activity indexes). aftercall_accept_deliveries writes the headers and
// the vector of new deliveries (routines/accept-deliveries.ts).
import type { Migration } from '../../sql/migrate.js';

export const RUNS_PAGE: Migration = {
  version: 11,
  name: 'the Runs page: sender headers, dismissed quarantine, search, call and activity indexes',
  // Revisions stored before this migration are indexed from their JSON here: their call id,
  // customer phone digits, campaign, extracted variables and mappings (the national form of a
  // phone only from now on). JSON holding "\u0000" cannot be cast to jsonb: left unindexed.
  sql: `
    ALTER TABLE receipts ADD COLUMN headers TEXT;
    ALTER TABLE receipts ADD COLUMN dismissed_at BIGINT;
    ALTER TABLE revisions ADD COLUMN search tsvector;
    CREATE INDEX receipts_by_revision ON receipts (revision_id) WHERE revision_id IS NOT NULL;
    CREATE INDEX calls_by_created ON calls (created_at);
    CREATE INDEX runs_by_finished ON runs (finished_at, status) WHERE finished_at IS NOT NULL;
    CREATE INDEX step_results_by_finished ON step_results (finished_at) WHERE status IN ('succeeded', 'failed');
    UPDATE revisions v SET search = to_tsvector('simple', lower(concat_ws(' ', j->>'id', regexp_replace(j->>'customer_phone', '\\D', '', 'g'),
        j->'campaign'->>'id', j->'campaign'->>'name',
        (SELECT string_agg(e.value, ' ') FROM jsonb_each_text(CASE WHEN jsonb_typeof(j->'extracted_variables') = 'object' THEN j->'extracted_variables' END) e),
        (SELECT string_agg(r.mapping_name, ' ') FROM runs r WHERE r.revision_id = v.id))))
      FROM (SELECT id, call_json::jsonb AS j FROM revisions WHERE position('\\u0000' in call_json) = 0) AS parsed
      WHERE parsed.id = v.id;
    CREATE INDEX revisions_search ON revisions USING gin (search);
  `,
};
