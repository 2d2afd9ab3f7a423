// The transport of HubSpot's generated CRM objects API (its configuration's `httpApi`): the SDK
// still builds each request (URL, JSON body, auth and User-Agent headers) and reads each answer
// (status, models, ApiException); this sends it on node:http and the step's pooled agent
// (vendor-http.ts) instead of the SDK's default node-fetch library. Loaded with the SDK.
import type { Agent } from 'node:http';
import { Observable, ResponseContext, type HttpLibrary, type RequestContext } from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import type { ExchangeLog } from '../evidence.js';
import { sendVendorRequest } from '../vendor-http.js';

/** Header values as the SDK's default library hands them on: one string per lower-case name. */
function plainHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

export class NodeHttpLibrary implements HttpLibrary {
  constructor(
    private readonly agent: Agent,
    private readonly log: ExchangeLog,
  ) {}

  send(request: RequestContext): Observable<ResponseContext> {
    return new Observable(this.sendNow(request));
  }

  private async sendNow(request: RequestContext): Promise<ResponseContext> {
    const body = request.getBody();
    // The CRM calls aftercall makes send JSON; a multipart upload would need the SDK's own library.
    if (body !== undefined && typeof body !== 'string') throw new Error('HubSpot request with a multipart or form body: not supported by aftercall\'s transport');
    const answer = await sendVendorRequest(new URL(request.getUrl()), {
      method: request.getHttpMethod(),
      headers: request.getHeaders(),
      agent: this.agent,
      log: this.log,
      ...(body === undefined ? {} : { body }),
    });
    return new ResponseContext(answer.status, plainHeaders(answer.headers), {
      text: () => Promise.resolve(answer.body.toString('utf8')),
      binary: () => Promise.resolve(answer.body),
    });
  }
}
