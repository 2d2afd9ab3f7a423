// Which mappings take a call, and why the others do not (the reasons feed `replay --dry-run`).
import type { Call } from '../payload/call.js';
import type { CompiledMapping } from '../mapping/load-mappings.js';

export interface MatchOutcome {
  matched: CompiledMapping[];
  notMatched: Array<{ mapping: string; reason: string }>;
}

export function matchMappings(call: Call, mappings: readonly CompiledMapping[]): MatchOutcome {
  const outcome: MatchOutcome = { matched: [], notMatched: [] };
  for (const mapping of mappings) {
    const reason = mismatch(call, mapping);
    if (reason) outcome.notMatched.push({ mapping: mapping.name, reason });
    else outcome.matched.push(mapping);
  }
  return outcome;
}

function mismatch(call: Call, mapping: CompiledMapping): string | null {
  const { match } = mapping;
  if (!mapping.enabled) return 'disabled';
  if (match.status) {
    const statuses = match.status.map((s) => (s === 'no-answer' ? 'unanswered' : s));
    if (!statuses.includes(call.status)) return `status ${call.status} is not one of ${statuses.join(', ')}`;
  }
  if (match.platform && !match.platform.includes(call.platform)) {
    return `platform ${call.platform} is not one of ${match.platform.join(', ')}`;
  }
  if (match.variant && !match.variant.includes(call.variant)) {
    return `variant ${call.variant} is not one of ${match.variant.join(', ')}`;
  }
  if (match.channel && !match.channel.includes(call.channel)) {
    return `channel ${call.channel} is not one of ${match.channel.join(', ')}`;
  }
  if (match.event && !(call.event && match.event.includes(call.event))) {
    return call.event ? `event ${call.event} is not one of ${match.event.join(', ')}` : 'the call has no event (a classic post-call webhook)';
  }
  if (match.assistant_phone && !(call.assistant_phone && match.assistant_phone.includes(call.assistant_phone))) {
    return 'assistant_phone is not one of the listed numbers';
  }
  if (match.campaign) {
    const campaign = call.campaign;
    const hit = campaign && match.campaign.some((c) => c === campaign.name || String(c) === String(campaign.id));
    if (!hit) return campaign ? `campaign "${campaign.name}" is not listed` : 'the call has no campaign';
  }
  return null;
}
