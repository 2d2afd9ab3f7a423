// Replies for what never reaches Express: requests Node's HTTP parser rejects (a bad or doubled
// Content-Length, a broken chunk, headers over the limit) get the same JSON error body and
// request id as every other reply, instead of Node's bare "400 Bad Request"; and requests that
// did not arrive in time get a JSON 408 before their connection is closed.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, ERRORS, type ErrorCodeName } from '../errors.js';

const CODES: Record<string, ErrorCodeName> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  // Headers not in within HEADERS_TIMEOUT_MS, or the whole request within REQUEST_TIMEOUT_MS.
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reply already begun on this socket cannot be followed by another.
    const replying = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (error.code === 'ECONNRESET' || !socket.writable || replying) {
      socket.destroy();
      return;
    }
    const requestId = randomUUID();
    const code = CODES[error.code ?? ''] ?? 'BAD_REQUEST';
    const status = ERRORS[code].status ?? 400;
    const body = JSON.stringify({
      ...errorBody(code, code === 'BAD_REQUEST' ? { detail: error.code ?? 'unreadable request' } : undefined),
      request_id: requestId,
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
      // A client too slow to finish its request would otherwise keep the half-open socket.
      () => {
        if (code === 'REQUEST_TIMEOUT') socket.destroy();
      },
    );
  });
}
