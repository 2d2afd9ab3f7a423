// Writes the generated files (`npm run generate`); test/generated-files.test.ts fails when
// a checked-in copy is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectorDocs } from '../src/connectors/docs.js';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { mappingJsonSchema } from '../src/mapping/mapping-json-schema.js';
import { mappingTestJsonSchema } from '../src/mapping/mapping-test-schema.js';
import { errorsDoc } from './errors-doc.js';
import { expressionDocs } from './expression-docs.js';

const root = join(import.meta.dirname, '..');
export const GENERATED: Record<string, () => string | Promise<string>> = {
  'mappings/mapping.schema.json': () => `${JSON.stringify(mappingJsonSchema(stepKinds(createConnectors({}))), null, 2)}\n`,
  'mappings/mapping-test.schema.json': () => `${JSON.stringify(mappingTestJsonSchema(), null, 2)}\n`,
  'docs/connectors.md': () => connectorDocs(),
  'docs/expressions.md': () => expressionDocs(),
  'docs/errors.md': () => errorsDoc(),
};

if (process.argv[1] === import.meta.filename) {
  for (const [file, make] of Object.entries(GENERATED)) {
    writeFileSync(join(root, file), await make());
    console.log(`wrote ${file}`);
  }
}
