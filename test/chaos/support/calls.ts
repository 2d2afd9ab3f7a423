// Call payloads for the chaos scenarios: the autocalls.ai fixture with its own id, a real-looking
// customer phone (so it is not the documented sample, i.e. not a test delivery) and a summary.
import { fixture } from '../../support/fixtures.js';

export function chaosCall(id: number, summary = `summary of call ${id}`): Record<string, unknown> {
  const call = fixture('seed-001-autocalls');
  call.id = id;
  call.customer_phone = '+14155550100';
  (call.extracted_variables as Record<string, unknown>).summary = summary;
  return call;
}

/** A mapping step that posts JSON to a stub vendor. */
export function httpStep(id: string, url: string, body: string, extra: string[] = []): string {
  return [`  - id: ${id}`, '    use: http.request', ...extra.map((line) => `    ${line}`), `    with: { url: "${url}", body: ${body} }`].join('\n');
}

export function mappingYaml(name: string, steps: string[]): string {
  return `name: ${name}\nsteps:\n${steps.join('\n')}\n`;
}

/** The scenarios' sales follow-up: a CRM update on every change, then one SMS (repeat: never). */
export function salesFollowupYaml(crmUrl: string, smsUrl: string): string {
  return mappingYaml('sales-followup', [
    httpStep('crm', `${crmUrl}/contacts`, '{ call: "{{ call.id }}", summary: "{{ extracted.summary }}" }'),
    httpStep('sms', `${smsUrl}/messages`, '{ call: "{{ call.id }}", to: "{{ call.customer_phone }}", text: "Thanks! {{ extracted.summary }}" }', [
      'repeat: never',
    ]),
  ]);
}
