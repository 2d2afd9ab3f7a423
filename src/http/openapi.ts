// The OpenAPI 3.1 document of /api, served at /api/openapi.json. Paths are listed here; every
// body schema comes from api-contract.ts (zod → JSON Schema 2020-12, which OpenAPI 3.1 uses).
import { z } from 'zod';
import { apiSchemas } from './api-contract.js';
import { RUN_STATUSES } from '../store/run-status.js';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const jsonBody = (id: string, description: string) => ({ description, content: { 'application/json': { schema: ref(id) } } });
const error = (description: string) => jsonBody('Error', description);
const idParam = (description: string) => ({ name: 'id', in: 'path', required: true, description, schema: { type: 'integer', minimum: 1 } });

/** Answers every operation behind the token can give besides its own. */
const guarded = {
  '401': error('`ADMIN_UNAUTHORIZED`: no or wrong `Authorization: Bearer <ADMIN_TOKEN>`'),
  '429': error('`RATE_LIMITED`: too many requests from this client'),
};

export const RUN_LIST_MAX_LIMIT = 500;

const paths = {
  '/api/runs': {
    get: {
      operationId: 'listRuns',
      summary: 'Runs, newest first, one page at a time',
      parameters: [
        { name: 'status', in: 'query', schema: { type: 'string', enum: [...RUN_STATUSES] } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: RUN_LIST_MAX_LIMIT, default: 50 } },
        { name: 'before', in: 'query', description: 'runs with an id below this one (`next_before` of the previous page)', schema: { type: 'integer', minimum: 1 } },
        { name: 'after', in: 'query', description: 'the page of runs just above this id, still newest first (`next_after`); not with `before`', schema: { type: 'integer', minimum: 1 } },
        { name: 'q', in: 'query', description: 'words all required, the last a prefix: call id, phone in any format, campaign, mapping, extracted-variable words', schema: { type: 'string', minLength: 1, maxLength: 100 } },
        { name: 'mapping', in: 'query', description: 'runs of this mapping only', schema: { type: 'string', minLength: 1, maxLength: 100 } },
        { name: 'from', in: 'query', description: 'runs created at or after this time', schema: { type: 'string', format: 'date-time' } },
        { name: 'to', in: 'query', description: 'runs created before this time', schema: { type: 'string', format: 'date-time' } },
      ],
      responses: { '200': jsonBody('RunList', 'a page of runs'), '400': error('`BAD_REQUEST`: `field` names the query parameter'), ...guarded },
    },
  },
  '/api/runs/{id}': {
    get: {
      operationId: 'getRun',
      summary: 'One run with its call and step records',
      parameters: [idParam('the run id')],
      responses: { '200': jsonBody('RunReply', 'the run'), '404': error('`RUN_NOT_FOUND`'), ...guarded },
    },
  },
  '/api/runs/{id}/retry': {
    post: {
      operationId: 'retryRun',
      summary: 'Queue a dead or invalid-variables run again; completed steps do not repeat',
      parameters: [idParam('the run id')],
      responses: {
        '202': jsonBody('Requeued', 'queued'),
        '404': error('`RUN_NOT_FOUND`'),
        '409': error('`RUN_NOT_RETRYABLE`: the run is not dead'),
        ...guarded,
      },
    },
  },
  '/api/quarantine': {
    get: {
      operationId: 'listQuarantine',
      summary: 'The newest 100 deliveries rejected as malformed or invalid',
      responses: { '200': jsonBody('QuarantineList', 'quarantined deliveries, newest first'), ...guarded },
    },
  },
  '/api/quarantine/{id}/replay': {
    post: {
      operationId: 'replayQuarantined',
      summary: 'Take a quarantined body through ingest again (after a schema fix or with SCHEMA_MODE=warn)',
      parameters: [idParam('the quarantined delivery id')],
      responses: {
        '202': jsonBody('Replayed', 'accepted: its runs are queued'),
        '200': jsonBody('Replayed', 'a duplicate of a stored revision'),
        '404': error('`RECEIPT_NOT_FOUND`'),
        '422': error('`INVALID_PAYLOAD` (with `errors`) or `MALFORMED_JSON`: still not acceptable'),
        ...guarded,
      },
    },
  },
  '/api/openapi.json': {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      security: [],
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  },
};

function componentSchemas(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(apiSchemas, { uri: (id) => `#/components/schemas/${id}`, io: 'output', unrepresentable: 'any' });
  // Each schema is a component, not a document: no $schema or $id of its own.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'aftercall operator API',
      version,
      description:
        'Run history, retries and quarantine replays, behind ADMIN_TOKEN. Names are snake_case and times ISO 8601 UTC ' +
        'strings throughout, as in the webhook replies and the normalized call. Errors carry `code` (docs/errors.md) and `request_id`.',
    },
    security: [{ adminToken: [] }],
    paths,
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
      schemas: componentSchemas(),
    },
  };
}
