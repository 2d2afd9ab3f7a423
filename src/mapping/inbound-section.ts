// The `inbound:` section of a mapping file: what to answer the platform's inbound-call request
// (src/ingest/inbound/) with. Lookups run in parallel before the call is connected; variables
// are templates over their results; every variable has a default, used when its lookups time
// out, fail or find nothing, so the answer is always complete.
import { z } from 'zod';
import { compileTemplate, ExpressionError, type Render } from './template.js';

/** Read-only kinds a lookup may use: nothing with a side effect runs before every inbound call. */
export const LOOKUP_KINDS = [
  'earlier_calls',
  'http.request',
  'hubspot.contact.find_by_phone',
  'pipedrive.person.find_by_phone',
  'salesforce.contact.find_by_phone',
] as const;

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>);

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Prompt variable names: what `{customer_name}` in a prompt can name. */
const VARIABLE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export const inboundSectionSchema = z
  .strictObject({
    match: z
      .strictObject({
        assistant_phone: oneOrMany(z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 phone number'))
          .describe('The assistant numbers (E.164) whose inbound calls this section answers.')
          .optional(),
        assistant_id: oneOrMany(z.union([z.string().min(1), z.number().int()]))
          .describe('Assistant ids (sent by newer platform versions).')
          .optional(),
      })
      .default({})
      .describe('All given keys must match; an empty match answers every inbound call.'),
    lookups: z
      .array(
        z.strictObject({
          id: z
            .string()
            .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lowercase letters, digits and underscores, starting with a letter')
            .describe('Variables read the result as lookups.<id>.'),
          use: z.enum(LOOKUP_KINDS).describe('earlier_calls (aftercall\'s own store), http.request, or a CRM contact search by phone.'),
          with: z.record(z.string(), z.unknown()).default({}).describe('The lookup input; strings may hold {{ expressions }} over `inbound`.'),
          timeout_ms: z.number().int().min(1).optional().describe('Own limit; never beyond INBOUND_DEADLINE_MS from the request.'),
        }),
      )
      .default([])
      .describe('Run in parallel, each bounded by its timeout and the deadline.'),
    variables: z
      .record(z.string().regex(VARIABLE_NAME, 'variable names are lowercase letters, digits and underscores'), z.unknown())
      .describe('The answer: each a value or a {{ template }} over `inbound` and `lookups`.'),
    defaults: z
      .record(z.string(), scalar)
      .describe('A value for every variable, answered when its template gives nothing (empty, null, a failed or late lookup).'),
  })
  .superRefine((section, ctx) => {
    for (const name of Object.keys(section.variables)) {
      if (!(name in section.defaults)) ctx.addIssue({ code: 'custom', path: ['defaults', name], message: `needs a default for variable "${name}"` });
    }
    for (const name of Object.keys(section.defaults)) {
      if (!(name in section.variables)) ctx.addIssue({ code: 'custom', path: ['defaults', name], message: `"${name}" is not one of the variables` });
    }
    const seen = new Set<string>();
    section.lookups.forEach((l, i) => {
      if (seen.has(l.id)) ctx.addIssue({ code: 'custom', path: ['lookups', i, 'id'], message: `duplicate lookup id "${l.id}"` });
      seen.add(l.id);
    });
  })
  .describe('Answers the inbound-call request (POST /webhooks/inbound-call) with prompt variables.');

export type InboundSectionFile = z.output<typeof inboundSectionSchema>;
export type PromptValue = string | number | boolean;

export interface CompiledLookup {
  id: string;
  use: (typeof LOOKUP_KINDS)[number];
  render: Render;
  timeoutMs: number | null;
}

export interface CompiledInbound {
  match: InboundSectionFile['match'];
  lookups: CompiledLookup[];
  variables: Array<{ name: string; render: Render }>;
  defaults: Record<string, PromptValue>;
}

/** Compiles the templates; a syntax error comes back with its path inside the section. */
export function compileInbound(section: InboundSectionFile): { inbound: CompiledInbound } | { problem: { path: Array<string | number>; message: string } } {
  try {
    return {
      inbound: {
        match: section.match,
        lookups: section.lookups.map((l, i) => ({
          id: l.id,
          use: l.use,
          render: compileTemplate(l.with, ['lookups', i, 'with']),
          timeoutMs: l.timeout_ms ?? null,
        })),
        variables: Object.entries(section.variables).map(([name, value]) => ({ name, render: compileTemplate(value, ['variables', name]) })),
        defaults: section.defaults,
      },
    };
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return { problem: { path: error.path, message: error.message } };
  }
}
