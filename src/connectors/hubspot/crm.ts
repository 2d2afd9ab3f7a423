// The HubSpot CRM calls the steps share, on the SDK's generic objects API
// (/crm/v3/objects/<type>, …/search, …/<id>, …/batch/*): search by equal values, create with
// associations and update (both batched across steps: write-batches.ts), and "create once"
// with an idempotency property.
import type {
  AssociationSpecAssociationCategoryEnum,
  FilterOperatorEnum,
  SimplePublicObject,
} from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import type { StepContext } from '../connector.js';
import type { HubSpot } from './client.js';
import { during } from '../classify-failure.js';

const EQ = 'EQ' as FilterOperatorEnum;
const HUBSPOT_DEFINED = 'HUBSPOT_DEFINED' as AssociationSpecAssociationCategoryEnum;

export interface Association {
  to: string;
  typeId: number;
}

/**
 * Objects matching ANY of the groups, each group a set of property = value filters (ANDed).
 * HubSpot's search index lags writes by a few seconds; callers that must not duplicate also
 * rely on HubSpot's own unique checks (email, unique-value properties).
 */
export async function searchEqual(
  hubspot: HubSpot,
  objectType: string,
  groups: Array<Record<string, string>>,
  properties: string[],
): Promise<SimplePublicObject[]> {
  const page = await during(`search ${objectType}`, () =>
    hubspot.searchApi.doSearch(objectType, {
      filterGroups: groups.map((group) => ({
        filters: Object.entries(group).map(([propertyName, value]) => ({ propertyName, operator: EQ, value })),
      })),
      properties,
      limit: 10,
    }, hubspot.options),
  );
  // Oldest first: the same record wins every time.
  return [...page.results].sort((a, b) => time(a.createdAt) - time(b.createdAt) || Number(a.id) - Number(b.id));
}

/** Creates a record, in one batch request with other steps' creates of the type when they run at once. */
export async function createObject(
  hubspot: HubSpot,
  objectType: string,
  properties: Record<string, string>,
  associations: Association[],
): Promise<SimplePublicObject> {
  return hubspot.batches.create(hubspot, objectType, {
    properties,
    associations: associations.map((a) => ({
      to: { id: a.to },
      types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: a.typeId }],
    })),
  });
}

/** Updates a record, in one batch request with other steps' updates of the type when they run at once. */
export async function updateObject(hubspot: HubSpot, objectType: string, id: string, properties: Record<string, string>): Promise<void> {
  await hubspot.batches.update(hubspot, objectType, id, properties);
}

/**
 * Creates the object, unless an earlier attempt of this step already did: with an
 * `idempotencyProperty` (a custom text property, e.g. aftercall_key) the step's idempotency
 * key is stored in it and searched for first. Without one, a retry after an unanswered
 * create can leave a second record (HubSpot has no idempotency keys for creates).
 */
export async function createOnce(
  hubspot: HubSpot,
  ctx: StepContext,
  objectType: string,
  properties: Record<string, string>,
  associations: Association[],
  idempotencyProperty: string | null | undefined,
): Promise<{ id: string; created: boolean }> {
  if (idempotencyProperty) {
    const [earlier] = await searchEqual(hubspot, objectType, [{ [idempotencyProperty]: ctx.idempotencyKey }], [idempotencyProperty]);
    if (earlier) {
      ctx.logger.info({ object: objectType, id: earlier.id }, 'found the record an earlier attempt created');
      return { id: earlier.id, created: false };
    }
    properties = { ...properties, [idempotencyProperty]: ctx.idempotencyKey };
  }
  const created = await createObject(hubspot, objectType, properties, associations);
  return { id: created.id, created: true };
}

function time(value: Date | string | undefined): number {
  const t = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isNaN(t) ? 0 : t;
}

