// Runs the masker from the TypeScript sources in a worker thread, so a test can give it a
// deadline and stop it (a stuck regular expression never yields to the test's own timers).
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { maskText, maskUrl, maskValue } = await import('../../src/masking.ts');
const fns = { maskText, maskUrl, maskValue: (text) => JSON.stringify(maskValue({ fields: { note: text } })) };
for (const { fn, text } of workerData.inputs) parentPort.postMessage({ fn, length: fns[fn](text).length });
parentPort.postMessage({ done: true });
