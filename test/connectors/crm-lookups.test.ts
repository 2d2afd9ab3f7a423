// The CRM contact lookups by phone (inbound-call variables), each with its vendor's SDK against
// the stateful stand-ins: the exact request, the output when someone has the number and when
// no one has.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeHubSpot, fakePipedrive, fakeSalesforce } from './support/fake-vendors.js';
import { closeTestConnectors, runStep } from './support/step-harness.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

const PHONE = '+14155550142';
let stub: VendorStub;
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
});

describe('hubspot.contact.find_by_phone', () => {
  let hubspot: ReturnType<typeof fakeHubSpot>;
  beforeEach(async () => {
    hubspot = fakeHubSpot();
    stub = await startVendorStub(hubspot.route);
    vi.stubEnv('HUBSPOT_ACCESS_TOKEN', 'pat-na1-test-token');
    vi.stubEnv('HUBSPOT_BASE_URL', stub.url);
  });

  it('searches phone or mobilephone and reads the standard and the asked-for properties', async () => {
    hubspot.objects.contacts = [{ id: '901', properties: { firstname: 'Dana', mobilephone: PHONE, plan__c: 'gold' }, associations: [], createdAt: new Date().toISOString() }];
    const found = await runStep('hubspot.contact.find_by_phone', { phone: PHONE, properties: ['plan__c'] });
    expect(found).toMatchObject({ found: true, id: '901', firstname: 'Dana', phone: PHONE, email: null, properties: { plan__c: 'gold' } });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/contacts/search']);
    const body = stub.requests[0]!.json as { filterGroups: unknown; properties: string[] };
    expect(body.filterGroups).toEqual([
      { filters: [{ propertyName: 'phone', operator: 'EQ', value: PHONE }] },
      { filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: PHONE }] },
    ]);
    expect(body.properties).toEqual(expect.arrayContaining(['firstname', 'lastname', 'email', 'company', 'plan__c']));
    expect(await runStep('hubspot.contact.find_by_phone', { phone: '+14155550199' })).toMatchObject({ found: false, id: null, firstname: null });
  });
});

describe('pipedrive.person.find_by_phone', () => {
  let pipedrive: ReturnType<typeof fakePipedrive>;
  beforeEach(async () => {
    pipedrive = fakePipedrive();
    stub = await startVendorStub(pipedrive.route);
    vi.stubEnv('PIPEDRIVE_API_TOKEN', 'pipedrive-test-token');
    vi.stubEnv('PIPEDRIVE_BASE_URL', stub.url);
  });

  it('searches persons by phone, exact match, and answers the first hit', async () => {
    pipedrive.records.push({ id: 42, kind: 'persons', data: { name: 'Dana Whitfield', phones: [{ value: PHONE }], emails: [{ value: 'dana@whitfield.example' }] } });
    expect(await runStep('pipedrive.person.find_by_phone', { phone: PHONE })).toEqual({
      found: true, id: 42, name: 'Dana Whitfield', email: 'dana@whitfield.example', phone: PHONE, organization: null, owner_id: null,
    });
    const query = stub.requests[0]!.query;
    expect([stub.requests[0]!.path, query.get('term'), query.get('fields'), query.get('exact_match')]).toEqual(['/api/v2/persons/search', PHONE, 'phone', 'true']);
    expect(stub.requests[0]!.headers['x-api-token']).toBe('pipedrive-test-token');
    expect(await runStep('pipedrive.person.find_by_phone', { phone: '+14155550199' })).toMatchObject({ found: false, id: null });
  });
});

describe('salesforce.contact.find_by_phone', () => {
  let sf: ReturnType<typeof fakeSalesforce>;
  beforeEach(async () => {
    sf = fakeSalesforce({ instanceUrl: () => stub.url });
    stub = await startVendorStub(sf.route);
    vi.stubEnv('SALESFORCE_INSTANCE_URL', stub.url);
    vi.stubEnv('SALESFORCE_ACCESS_TOKEN', '00D5e000000AbCd!token');
  });

  it('queries Contact on Phone or MobilePhone, oldest first', async () => {
    sf.records.push({ Id: '0035e0000000000001', type: 'Contact', fields: { MobilePhone: PHONE } });
    expect(await runStep('salesforce.contact.find_by_phone', { phone: PHONE })).toMatchObject({ found: true, id: '0035e0000000000001' });
    expect(stub.requests[0]!.query.get('q')).toBe(
      `SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, Account.Name FROM Contact WHERE Phone = '${PHONE}' OR MobilePhone = '${PHONE}' ORDER BY CreatedDate ASC LIMIT 1`,
    );
    expect(await runStep('salesforce.contact.find_by_phone', { phone: '+14155550199' })).toMatchObject({ found: false, id: null });
  });
});
