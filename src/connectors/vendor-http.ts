// One request of a vendor SDK on node:http, for the SDKs whose official transport hook aftercall
// fills in (Twilio's `httpClient`, HubSpot's call-time `httpApi`): the SDK builds the request and
// reads the answer; this carries it on the step's keep-alive agent, so the client pool can still
// cut it at the step's deadline. It replaces the SDKs' own stacks (axios, node-fetch), which cost
// more CPU per request than the request itself (measured: see docs/ARCHITECTURE.md).
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ExchangeLog } from './evidence.js';

/** Vendor answers are a few KB; one this large is not read to its end (the request fails). */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export interface VendorAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface VendorRequest {
  method: string;
  headers: Record<string, string>;
  /** The step's keep-alive agent (its scheme matches the URL's). */
  agent: Agent;
  body?: string;
  /** No answer within this time fails the request (ETIMEDOUT); unset: the step deadline alone. */
  timeoutMs?: number;
  /** Where the request and its answer are noted, for the evidence of a failed step. */
  log?: ExchangeLog;
}

/** An error with a network code (classify-failure.ts `networkCode` reads it). */
export function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Sends one request and reads the whole answer. Fails with the socket's error, ETIMEDOUT after
 * `timeoutMs`, ECONNRESET when the connection closes mid-answer, ECONNABORTED past
 * MAX_ANSWER_BYTES. Redirects are answers like any other (the SDKs follow none).
 */
export function sendVendorRequest(url: URL, request: VendorRequest): Promise<VendorAnswer> {
  const headers = request.body === undefined ? request.headers : { ...request.headers, 'Content-Length': String(Buffer.byteLength(request.body)) };
  const exchange = request.log?.sent(request.method, url);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: request.method, headers, agent: request.agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      if (exchange) exchange.status = res.statusCode;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          if (exchange) exchange.body = Buffer.concat(chunks);
          req.destroy(networkError(`the answer exceeds ${MAX_ANSWER_BYTES} bytes`, 'ECONNABORTED'));
        } else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        if (exchange) exchange.body = body;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(networkError('the connection closed before the answer ended', 'ECONNRESET'));
      });
    });
    if (request.timeoutMs !== undefined && request.timeoutMs > 0) {
      const ms = request.timeoutMs;
      timer = setTimeout(() => req.destroy(networkError(`no answer within ${ms} ms`, 'ETIMEDOUT')), ms);
    }
    req.on('error', fail);
    req.end(request.body);
  });
}
