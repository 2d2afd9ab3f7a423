// Generated files are checked in; this fails when one is stale (run `npm run generate`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED } from '../scripts/generate.js';

describe('generated files are up to date', () => {
  it.each(Object.keys(GENERATED))('%s', (file) => {
    const onDisk = readFileSync(join(import.meta.dirname, '..', file), 'utf8');
    expect(onDisk, `${file} is stale: run npm run generate`).toBe(GENERATED[file]!());
  });

  it('the mapping schema offers every step kind and its inputs', () => {
    const schema = JSON.parse(GENERATED['mappings/mapping.schema.json']!()) as {
      properties: { steps: { items: { properties: { use: { enum: string[] } }; allOf: unknown[] } } };
    };
    expect(schema.properties.steps.items.properties.use.enum).toEqual([
      'http.request',
      'log',
      'hubspot.contact.upsert',
      'hubspot.note.create',
      'hubspot.deal.create',
      'hubspot.task.create',
      'salesforce.lead.upsert',
      'salesforce.contact.update',
      'salesforce.task.create',
      'pipedrive.person.upsert',
      'pipedrive.note.create',
      'pipedrive.activity.create',
      'pipedrive.deal.create',
      'twilio.sms.send',
      'email.send',
    ]);
    expect(JSON.stringify(schema.properties.steps.items.allOf)).toContain('"url":{"description":"Where to send the request (http or https)."}');
  });
});
