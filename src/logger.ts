// pino logs: JSON, or pino-pretty's readable lines for a person at a terminal. Every line passes through the one masker (src/masking.ts): the logged
// object (at any depth) and the message, so phones, emails, transcripts and tokens never
// reach a log line in clear, whoever wrote the line. pino formats only the root's bindings,
// not a child's: child bindings carry ids (run, call, mapping, step), never call data.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { maskText, maskValue } from './masking.js';

export type { Logger };
// Re-exported: the worker and connectors mask the error messages they store with the same function.
export { maskText, maskUrl } from './masking.js';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          // pino takes an Error's message as the line's message when none is given.
          if (first instanceof Error && rest.length === 0) rest.push(first.message);
          const masked = rest.map((arg) => (typeof arg === 'string' ? maskText(arg) : arg));
          const head = typeof first === 'string' ? maskText(first) : first;
          return method.apply(this, [head, ...masked] as Parameters<typeof method>);
        },
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: maskLogObject,
      },
      // Errors are already plain masked objects (formatters.log runs first); pino's own
      // serializer would re-read them as errors and lose their type.
      serializers: { err: (error: unknown) => error },
    },
    destination,
  );
}

/**
 * Readable lines when `stream` is a terminal (a person reads them); undefined otherwise, so
 * files and log collectors get one JSON object a line. The lines are masked before they get here.
 */
export function terminalDestination(stream: NodeJS.WriteStream = process.stdout): pino.DestinationStream | undefined {
  if (!stream.isTTY) return undefined;
  return pretty({
    destination: stream,
    sync: true,
    colorize: stream.hasColors?.() ?? false,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/**
 * pino formats a line's object before its serializers run: the access log's raw request and
 * response are left to pino-http's serializers (src/http/app.ts), which log only the method,
 * the URL through `maskUrl` and the status.
 */
function maskLogObject(object: Record<string, unknown>): Record<string, unknown> {
  const { req, res, ...rest } = object;
  const masked = maskValue(rest) as Record<string, unknown>;
  return req === undefined && res === undefined ? masked : { req, res, ...masked };
}
