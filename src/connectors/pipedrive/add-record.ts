// What the deal, activity and note steps do: add one record; the step's output is its id.
// Pipedrive has no idempotency keys and no way to search these by a marker: a retry after an
// add that got no answer may add a second one (the person upsert never does).
import { during } from '../classify-failure.js';
import type { StepContext } from '../connector.js';
import { dataId, type PipedriveApis, type PipedriveConnector } from './client.js';

/** Adds one record with `add` (`action` names it for failures: "add deal"). */
export function addRecord(
  pipedrive: PipedriveConnector,
  ctx: StepContext,
  action: string,
  add: (api: PipedriveApis) => Promise<unknown>,
): Promise<{ id: number }> {
  return pipedrive.withApis(ctx, action, async (api) => ({ id: dataId(await during(action, () => add(api))) }));
}
