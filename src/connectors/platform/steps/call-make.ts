// `platform.call.make`: call the customer back now with an assistant, passing variables to it.
// Not safe to repeat: a call cannot be taken back, so one that got no answer is reported.
import { z } from 'zod';
import { optional } from '../../step-input.js';
import { apiId, idOf, phoneNumber, platformId, platformRecord, platformStep, SENDS, textOf, unwrap } from '../connector.js';

const KIND = 'platform.call.make';

const input = z.strictObject({
  assistant_id: platformId.describe('The assistant that calls (numeric on the classic API, a UUID on Famulor 2.0).'),
  phone_number: phoneNumber.describe('Who to call, in E.164, e.g. "{{ call.customer_phone }}".'),
  variables: z.record(z.string(), z.unknown()).default({}).describe('Variables for the assistant\'s prompt, e.g. { customer_name: "{{ input.customer_name }}" } (2.0: sent as the call\'s lead).'),
  phone_number_id: optional(z.uuid('must be a UUID')).describe('Famulor 2.0 only: the number to call from (else the assistant\'s own).'),
});

export const callMake = platformStep({
  kind: KIND,
  description: 'Start an outbound call now with an assistant and variables. Output: { call_id, status }.',
  input,
  ...SENDS,
  output: platformRecord('call_id', 'the call', 'Its first status, e.g. initiated.'),
  async execute(req, ctx, { client }) {
    const assistant = apiId(client.api, KIND, 'assistant_id', req.assistant_id);
    // Classic: POST /api/user/make_call {phone_number, assistant_id, variables};
    // 2.0: POST /api/v1/calls {assistant_id, to_number, phone_number_id?, lead?}.
    const answer = await client.request(ctx, 'make call', {
      method: 'POST',
      sends: true,
      ...(client.api === 'classic'
        ? { path: '/user/make_call', body: { phone_number: req.phone_number, assistant_id: assistant, variables: req.variables } }
        : {
            path: '/calls',
            body: {
              assistant_id: assistant,
              to_number: req.phone_number,
              ...(req.phone_number_id ? { phone_number_id: req.phone_number_id } : {}),
              ...(Object.keys(req.variables).length ? { lead: req.variables } : {}),
            },
          }),
    });
    const top = (answer ?? {}) as Record<string, unknown>;
    const data = unwrap(answer);
    return { call_id: idOf(top.call_id ?? data.call_id ?? data.id), status: textOf(top.status ?? data.status) };
  },
});
