// Replies for what never reaches Express: requests Node's HTTP parser rejects (a bad or doubled
// Content-Length, a broken chunk, headers over the limit) get the same JSON error body and
// request id as every other reply, instead of Node's bare "400 Bad Request".
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from '../errors.js';

export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const requestId = randomUUID();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      ...errorBody(tooLarge ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST', { detail: error.code ?? 'unreadable request' }),
      request_id: requestId,
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
