// The deal, note and task steps: each creates one record, associated with the contact and/or
// deal its input names, and found instead when an earlier attempt of the step made it
// (createOnce with the step's idempotency property). A step says only what differs.
import type { z } from 'zod';
import type { RepeatPolicy, StepDefinition } from '../connector.js';
import { hubspotProperties, hubspotRecord, hubspotStep, type HubSpotConfig, type HubSpotConnector } from './client.js';
import { createOnce, type Association } from './crm.js';
import { idempotencyProperty } from './record-fields.js';

/** The `with` fields a create step may have (record-fields.ts) that it handles alike. */
interface CreateInput {
  contact_id?: string | null;
  deal_id?: string | null;
  /** Set as hubspot_owner_id. */
  owner_id?: string | null;
  /** More properties by internal name, over the step's own. */
  properties?: Record<string, unknown>;
}

/**
 * What a new record of each type is associated with: the input field naming the record, and the
 * HubSpot-defined association type id (from the SDK's AssociationTypes).
 */
const ASSOCIATIONS = {
  deals: { contact_id: 3 },
  notes: { contact_id: 202, deal_id: 214 },
  tasks: { contact_id: 204, deal_id: 216 },
} as const;
type Linkable = 'contact_id' | 'deal_id';

interface CreateStep<Schema extends z.ZodObject & z.ZodType<CreateInput>>
  extends Omit<StepDefinition<Schema, HubSpotConnector, HubSpotConfig>, 'kind' | 'defaultRepeat' | 'execute' | 'output'> {
  /** Unset: never, a record per call (a re-evaluated call must not create a second one). */
  defaultRepeat?: RepeatPolicy;
  /** Values by internal property name; null and undefined are left out (hubspotProperties). */
  properties(req: z.output<Schema>): Record<string, unknown>;
}

/**
 * A step that creates a record of `objectType`: its kind is `hubspot.<type>.create`, its input
 * the step's fields and then idempotency_property, its output `{ id, created }`.
 */
export function hubspotCreateStep<Schema extends z.ZodObject & z.ZodType<CreateInput>>(objectType: keyof typeof ASSOCIATIONS, spec: CreateStep<Schema>) {
  const { properties, input, defaultRepeat = 'never', ...step } = spec;
  // `deal` for `deals`: the kind, and the action a failure names ("create deal").
  const type = objectType.replace(/s$/, '');
  const action = `create ${type}`;
  const links = Object.entries(ASSOCIATIONS[objectType]) as Array<[Linkable, number]>;
  // The records the input names (an id left empty associates nothing).
  const linked = (req: CreateInput): Association[] => links.flatMap(([field, typeId]) => (req[field] ? [{ to: req[field], typeId }] : []));
  const values = (req: z.output<Schema>) => ({ ...properties(req), hubspot_owner_id: req.owner_id, ...req.properties });
  return hubspotStep({
    kind: `hubspot.${type}.create`,
    ...step,
    input: input.extend({ idempotency_property: idempotencyProperty }),
    defaultRepeat,
    output: hubspotRecord,
    execute: (req: z.output<Schema> & { idempotency_property?: string | null }, ctx, hubspot) =>
      hubspot.withClient(ctx, action, (client) =>
        createOnce(client, ctx, objectType, hubspotProperties(values(req)), linked(req), req.idempotency_property),
      ),
  });
}
