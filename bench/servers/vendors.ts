// Stub vendors for the end-to-end figure: HubSpot and Twilio as the connector tests run them
// (test/connectors/support: the recording stub server and the stateful fakes), both on one
// 127.0.0.1 port (their paths do not overlap), answering at once. Point HUBSPOT_BASE_URL and
// TWILIO_BASE_URL at it; /receiver/… stands in for the default mappings' local receiver.
// `GET /__bench/stats` answers the requests seen so far by route, and the records they wrote or read.
// Recorded requests and created notes, deals and tasks are dropped every second, so memory
// stays flat however long the bench runs (the contacts stay: upserts search them).
// Prints {"port":N} on stdout once listening; stops like the other bench servers.
import { fakeHubSpot, fakeTwilio } from '../../test/connectors/support/fake-vendors.js';
import { startVendorStub, type Route } from '../../test/connectors/support/vendor-stub.js';
import { onStop, ready } from './lifecycle.js';

const hubspot = fakeHubSpot();
const twilio = fakeTwilio();
const counts: Record<string, number> = {};
let total = 0;
/** Records written or read: a batch request counts its inputs. */
let operations = 0;

const route: Route = (req) => {
  if (req.method === 'GET' && req.path === '/__bench/stats') return { status: 200, body: { total, operations, counts } };
  total += 1;
  const inputs = (req.json as { inputs?: unknown } | null)?.inputs;
  operations += Array.isArray(inputs) ? inputs.length : 1;
  // "POST /crm/v3/objects/contacts/search", "PATCH /crm/v3/objects/contacts/{id}", "POST /2010-04-01/.../Messages.json"
  const key = `${req.method} ${req.path.replace(/\/\d+$/, '/{id}').replace(/\/Accounts\/AC\w+\//, '/Accounts/{sid}/')}`;
  counts[key] = (counts[key] ?? 0) + 1;
  // The default example mappings' receiver (npm run cli -- receiver), under /receiver/.
  if (req.path.startsWith('/receiver/')) return { status: 200, body: { received: true } };
  return hubspot.route(req) ?? twilio.route(req);
};

const stub = await startVendorStub(route);
const trim = setInterval(() => {
  stub.requests.length = 0;
  for (const type of Object.keys(hubspot.objects)) if (type !== 'contacts') hubspot.objects[type]!.length = 0;
}, 1_000);
trim.unref();

ready(Number(new URL(stub.url).port));
onStop(async () => {
  clearInterval(trim);
  await stub.close();
});
