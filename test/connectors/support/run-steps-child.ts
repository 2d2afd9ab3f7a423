// Child process of client-reuse.test.ts: runs HubSpot and Twilio steps against the stubs named in
// the environment, prints "steps done" and returns without closing anything. The process must
// then end by itself: the kept keep-alive connections may not hold it.
import { runStep } from './step-harness.js';

await runStep('hubspot.note.create', { body: 'Qualified', contact_id: '501' });
await runStep('hubspot.note.create', { body: 'Qualified again', contact_id: '501' });
await runStep('twilio.sms.send', { to: '+14155550142', body: 'Thanks!' });
await runStep('twilio.sms.send', { to: '+14155550142', body: 'Thanks again!' });
console.log('steps done');
