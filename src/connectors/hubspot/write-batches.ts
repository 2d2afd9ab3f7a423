// Creates and updates of one HubSpot object type from steps running at the same time, sent as
// one batch request (POST /crm/v3/objects/<type>/batch/create or …/batch/update) instead of one
// request each. Under load most of the service's time per vendor request is the request itself
// (HTTP, the SDK's request and answer handling), not the record in it; and HubSpot counts
// requests against an app's rate limit, not records, so batches also stretch that limit.
//
// Writes are collected until the event loop has run what is ready (setImmediate), so a write
// waits for no timer: a step alone is sent at once, on the single-object endpoint, as before.
// A batch goes out on the client of its first step (each step holds a client of its own: see
// client-pool.ts), so its deadline is the earliest of its steps'. Each input carries an
// objectWriteTraceId: HubSpot then answers 207 with the inputs that failed instead of failing
// all, and results are matched by it (HubSpot does not promise input order). An input the
// answer does not confirm, and every input of a batch refused as a whole (a 4xx other than
// 401/403/404/429: HubSpot wrote none of it), is sent again alone, so each step gets the answer
// its own request gets: the same classification, message and retry as without batching. A batch
// that got no answer (timeout, network, 5xx) or 401/403/404/429 fails each of its steps with
// that error, as the same request alone would have.
import type {
  SimplePublicObject,
  SimplePublicObjectInput,
  SimplePublicObjectInputForCreate,
} from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import { withEvidence } from '../evidence.js';
import { during } from '../classify-failure.js';
import type { HubSpot } from './client.js';
import { hubspotStatus } from './errors.js';

/** HubSpot's limit of inputs per batch request. */
export const MAX_BATCH_INPUTS = 100;

/** Answers to a whole batch that say nothing about its inputs alone: every step gets them. */
const SHARED_REFUSALS = new Set([401, 403, 404, 429]);

interface Waiting<I> {
  hubspot: HubSpot;
  input: I;
  resolve(result: SimplePublicObject): void;
  reject(error: unknown): void;
}

interface WriteKind<I> {
  /** "create note": the action an error names. */
  action: string;
  single(hubspot: HubSpot, input: I): Promise<SimplePublicObject>;
  batch(hubspot: HubSpot, inputs: Array<I & { objectWriteTraceId: string }>): Promise<{ results: SimplePublicObject[] }>;
  /**
   * The record an input writes, when it names one: two writes of one record never share a batch
   * (HubSpot refuses duplicate ids), and a result without its trace id is matched by it.
   */
  recordId?(input: I): string;
}

class WriteQueue<I> {
  private waiting: Array<Waiting<I>> = [];

  constructor(private readonly kind: WriteKind<I>) {}

  add(hubspot: HubSpot, input: I): Promise<SimplePublicObject> {
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ hubspot, input, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    let rest = this.waiting.splice(0);
    while (rest.length > 0) {
      const chunk: Array<Waiting<I>> = [];
      const later: Array<Waiting<I>> = [];
      const keys = new Set<string>();
      for (const w of rest) {
        // A step whose deadline passed while it waited has failed already: nothing is sent for it.
        if (w.hubspot.signal.aborted) {
          w.reject(new Error('the step ended before its write was sent'));
          continue;
        }
        const key = this.kind.recordId?.(w.input);
        if (chunk.length >= MAX_BATCH_INPUTS || (key !== undefined && keys.has(key))) later.push(w);
        else {
          chunk.push(w);
          if (key !== undefined) keys.add(key);
        }
      }
      if (chunk.length === 1) this.sendAlone(chunk[0]!);
      else if (chunk.length > 1) void this.sendBatch(chunk);
      rest = later;
    }
  }

  private sendAlone(w: Waiting<I>): void {
    during(this.kind.action, () => this.kind.single(w.hubspot, w.input)).then(w.resolve, w.reject);
  }

  private async sendBatch(chunk: Array<Waiting<I>>): Promise<void> {
    const inputs = chunk.map((w, i) => ({ ...w.input, objectWriteTraceId: String(i) }));
    let answer: { results: SimplePublicObject[] };
    try {
      answer = await during(`${this.kind.action} (a batch of ${chunk.length})`, () => this.kind.batch(chunk[0]!.hubspot, inputs));
    } catch (error) {
      const status = hubspotStatus(error);
      const refusedAsWhole = status !== undefined && status >= 400 && status < 500 && !SHARED_REFUSALS.has(status);
      withEvidence(error, chunk[0]!.hubspot.log.last);
      for (const w of chunk) {
        if (refusedAsWhole) this.sendAlone(w);
        else w.reject(error);
      }
      return;
    }
    if (!Array.isArray(answer?.results)) {
      // A 2xx without its results: the records may exist, so nothing is sent again. An answer
      // of a shape the code does not know: permanent (a TypeError, see classifyCommon).
      const error = withEvidence(
        new TypeError(`HubSpot answered the batch (${this.kind.action}) without its results`),
        chunk[0]!.hubspot.log.last,
      );
      for (const w of chunk) w.reject(error);
      return;
    }
    const byTrace = new Map(answer.results.map((r) => [r.objectWriteTraceId, r]));
    const byId = new Map(answer.results.map((r) => [r.id, r]));
    chunk.forEach((w, i) => {
      const id = this.kind.recordId?.(w.input);
      const result = byTrace.get(String(i)) ?? (id === undefined ? undefined : byId.get(id));
      if (result) w.resolve(result);
      else this.sendAlone(w); // not written (the 207's errors say why): its own request tells the step
    });
  }
}

/** The write queues of one HubSpot connector (one account), by object type and write. */
export interface WriteBatches {
  /** Creates a record, in a batch with the creates of other steps running now. */
  create(hubspot: HubSpot, objectType: string, input: SimplePublicObjectInputForCreate): Promise<SimplePublicObject>;
  /** Updates a record's properties, in a batch with the updates of other steps running now. */
  update(hubspot: HubSpot, objectType: string, id: string, properties: Record<string, string>): Promise<SimplePublicObject>;
}

export function createWriteBatches(): WriteBatches {
  const queues = new Map<string, WriteQueue<unknown>>();
  const queueFor = <I>(objectType: string, name: string, kind: () => WriteKind<I>): WriteQueue<I> => {
    const key = `${objectType}\n${name}`;
    let queue = queues.get(key) as WriteQueue<I> | undefined;
    if (!queue) {
      queue = new WriteQueue(kind());
      queues.set(key, queue as WriteQueue<unknown>);
    }
    return queue;
  };
  return {
    create: (hubspot, objectType, input) =>
      queueFor<SimplePublicObjectInputForCreate>(objectType, 'create', () => ({
        action: `create ${singular(objectType)}`,
        single: (h, i) => h.basicApi.create(objectType, i, h.options),
        batch: (h, inputs) => h.batchApi.create(objectType, { inputs }, h.options),
      })).add(hubspot, input),
    update: (hubspot, objectType, id, properties) =>
      queueFor<SimplePublicObjectInput & { id: string }>(objectType, 'update', () => ({
        action: `update ${singular(objectType)}`,
        single: (h, { id: objectId, properties: values }) => h.basicApi.update(objectType, objectId, { properties: values }, undefined, h.options),
        batch: (h, inputs) => h.batchApi.update(objectType, { inputs }, h.options),
        recordId: (i) => i.id,
      })).add(hubspot, { id, properties }),
  };
}

function singular(objectType: string): string {
  return objectType.replace(/s$/, '');
}
