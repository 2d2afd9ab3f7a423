// The deal, note and task steps: each creates one record, associated with the contact and/or
// deal its input names, and found instead when an earlier attempt of the step made it
// (createOnce with the step's idempotency property). A step says only what differs.
import type { z } from 'zod';
import type { StepDefinition } from '../connector.js';
import { hubspotProperties, hubspotRecord, hubspotStep, type HubSpotConfig, type HubSpotConnector } from './client.js';
import { createOnce, type Association } from './crm.js';

/** The `with` fields every create step has (record-fields.ts). */
interface CreateInput {
  contact_id?: string | null;
  deal_id?: string | null;
  idempotency_property?: string | null;
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

interface CreateStep<Schema extends z.ZodType<CreateInput>>
  extends Omit<StepDefinition<Schema, HubSpotConnector, HubSpotConfig>, 'execute' | 'output'> {
  /** Values by internal property name; null and undefined are left out (hubspotProperties). */
  properties(req: z.output<Schema>): Record<string, unknown>;
}

/** A step that creates a record of `objectType`; its output is `{ id, created }`. */
export function hubspotCreateStep<Schema extends z.ZodType<CreateInput>>(objectType: keyof typeof ASSOCIATIONS, spec: CreateStep<Schema>) {
  const { properties, ...step } = spec;
  // "create deal" for `deals`: the action a failure names.
  const action = `create ${objectType.replace(/s$/, '')}`;
  const links = Object.entries(ASSOCIATIONS[objectType]) as Array<[Linkable, number]>;
  // The records the input names (an id left empty associates nothing).
  const linked = (req: CreateInput): Association[] => links.flatMap(([field, typeId]) => (req[field] ? [{ to: req[field], typeId }] : []));
  return hubspotStep<Schema>({
    ...step,
    output: hubspotRecord,
    execute: (req, ctx, hubspot) =>
      hubspot.withClient(ctx, action, (client) =>
        createOnce(client, ctx, objectType, hubspotProperties(properties(req)), linked(req), req.idempotency_property),
      ),
  });
}
