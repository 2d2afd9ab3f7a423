// Generated files are checked in; this fails when one is stale (run `npm run generate`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED } from '../scripts/generate.js';
import { EXPRESSION_FUNCTIONS } from '../src/mapping/expression-functions.js';
import { buildStepContext } from '../src/mapping/step-context.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import { fixture } from './support/fixtures.js';

describe('generated files are up to date', () => {
  it.each(Object.keys(GENERATED))('%s', async (file) => {
    const onDisk = readFileSync(join(import.meta.dirname, '..', file), 'utf8');
    expect(onDisk, `${file} is stale: run npm run generate`).toBe(await GENERATED[file]!());
  });

  it('the mapping schema offers every step kind and its inputs', async () => {
    const schema = JSON.parse(await GENERATED['mappings/mapping.schema.json']!()) as {
      properties: { steps: { items: { properties: { use: { enum: string[] } }; allOf: unknown[] } } };
    };
    expect(schema.properties.steps.items.properties.use.enum).toEqual([
      'http.request',
      'log',
      'hubspot.contact.upsert',
      'hubspot.note.create',
      'hubspot.deal.create',
      'hubspot.task.create',
      'hubspot.contact.find_by_phone',
      'salesforce.lead.upsert',
      'salesforce.contact.update',
      'salesforce.task.create',
      'salesforce.contact.find_by_phone',
      'pipedrive.person.upsert',
      'pipedrive.note.create',
      'pipedrive.activity.create',
      'pipedrive.deal.create',
      'pipedrive.person.find_by_phone',
      'twilio.sms.send',
      'email.send',
      'platform.sms.send',
      'platform.lead.add',
      'platform.lead.update',
      'platform.lead.delete',
      'platform.call.make',
      'slack.message.send',
      'google.calendar.event.create',
    ]);
    expect(JSON.stringify(schema.properties.steps.items.allOf)).toContain('"url":{"description":"Where to send the request (http or https)."}');
  });

  it('the expression reference names every field of the context and every $function', async () => {
    const doc = await GENERATED['docs/expressions.md']!();
    const parsed = parsePayload(fixture('seed-001-autocalls'), 'strict');
    if (!parsed.ok) throw new Error('fixture does not parse');
    const context = buildStepContext(parsed.call, 0);
    for (const name of Object.keys(context)) expect(doc).toContain(`| \`${name}\` |`);
    for (const key of Object.keys(parsed.call)) expect(doc).toContain(`| \`call.${key}\` |`);
    for (const key of Object.keys(parsed.call.lead!)) expect(doc).toContain(`| \`lead.${key}\` |`);
    for (const key of Object.keys(parsed.call.campaign!)) expect(doc).toContain(`| \`campaign.${key}\` |`);
    for (const key of Object.keys(parsed.call.transfers[0]!)) expect(doc).toContain(`| \`transfers[i].${key}\` |`);
    for (const name of Object.keys(EXPRESSION_FUNCTIONS)) expect(doc).toMatch(new RegExp(`^\\| \`\\$${name}\` \\| \\S`, 'm'));
  });
});
