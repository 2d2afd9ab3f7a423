// The call page and the Runs page's call groups, rendered from hand-built store records.
import { describe, expect, it } from 'vitest';
import type { Call, Scalar } from '../src/payload/call.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import type { CallDelivery, CallHistory, CallRevision, RunSummary } from '../src/store/store.js';
import { variableDiff } from '../src/http/admin/variable-diff.js';
import { CALL_CSS, callGroupsTable, groupRunsByCall, type CallGroup } from '../src/http/admin/views/call-groups.js';
import { callPage } from '../src/http/admin/views/call-page.js';
import { fixture } from './support/fixtures.js';

const T0 = Date.UTC(2026, 2, 14, 9, 30, 0);
const MINUTE = 60_000;

const PHONE = '+4915123456789';
const OTHER_PHONE = '+4917098765432';
const EMAIL = 'jane.doe@example.com';
const OTHER_EMAIL = 'john.roe@example.org';

function fixtureCall(): Call {
  const parsed = parsePayload(fixture('seed-001-autocalls'), 'strict');
  if (!parsed.ok) throw new Error(`seed-001-autocalls does not parse: ${JSON.stringify(parsed.issues)}`);
  return parsed.call;
}

function revision(n: number, variables: Record<string, Scalar>, extra: Partial<CallRevision> = {}): CallRevision {
  return { revision: n, createdAt: T0 + n * MINUTE, isTest: false, call: { ...fixtureCall(), extracted_variables: variables }, ...extra };
}

function run(id: number, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    sender: 'acme',
    callId: '12345',
    revision: 1,
    mappingName: 'crm',
    mappingHash: 'h1',
    status: 'succeeded',
    isTest: false,
    attempts: 1,
    nextRunAt: null,
    lastError: null,
    score: null,
    createdAt: T0 + id * MINUTE,
    updatedAt: T0 + id * MINUTE,
    customerPhone: PHONE,
    ...extra,
  };
}

function delivery(receiptId: number, extra: Partial<CallDelivery> = {}): CallDelivery {
  return {
    receiptId,
    requestId: `req-${receiptId}`,
    receivedAt: T0 + receiptId * MINUTE,
    outcome: 'accepted',
    revision: receiptId,
    headers: { 'user-agent': 'autocalls-webhook/1.0' },
    ...extra,
  };
}

const REV1_VARS: Record<string, Scalar> = { lead_quality: 'high', count: 1, callback: PHONE, contact: EMAIL, gone: 'x' };
const REV2_VARS: Record<string, Scalar> = { lead_quality: 'high', count: '1', callback: OTHER_PHONE, contact: OTHER_EMAIL, fresh: true };

function history(extra: Partial<CallHistory> = {}): CallHistory {
  return {
    callRowId: 7,
    sender: 'acme',
    callId: '12345',
    latestRevision: 3,
    createdAt: T0,
    updatedAt: T0 + 10 * MINUTE,
    revisions: [revision(1, REV1_VARS), revision(2, REV2_VARS, { isTest: true }), revision(3, { ...REV2_VARS })],
    deliveries: [
      delivery(1),
      delivery(2, { outcome: 'duplicate', revision: 1, headers: null }),
      delivery(3, { revision: 2 }),
      delivery(4, { revision: 3 }),
    ],
    // Newest first, as the store gives them.
    runs: [
      run(13, { revision: 3, mappingName: 'slack', status: 'dead', attempts: 5, lastError: `HTTP 500 calling ${OTHER_PHONE} for ${EMAIL}` }),
      run(12, { revision: 2, mappingName: 'crm' }),
      run(11, { revision: 1, mappingName: 'crm', status: 'skipped' }),
    ],
    ...extra,
  };
}

/** One revision's section of the call page. */
function revisionSection(page: string, n: number): string {
  const start = page.indexOf(`<section class="revision" id="revision-${n}"`);
  expect(start, `revision ${n} has a section`).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf('</section>', start));
}

/** The rows of the table after `heading`. */
function tableAfter(page: string, heading: string): string {
  const start = page.indexOf(heading);
  expect(start, `${heading} is on the page`).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf('</table>', start));
}

const ENTITIES: Record<string, string> = { '&quot;': '"', '&#39;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };
/** What a reader sees of some markup: tags gone, entities decoded, spaces collapsed. */
const text = (markup: string) =>
  markup
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(?:quot|#39|lt|gt|amp);/g, (e) => ENTITIES[e]!)
    .replace(/\s+/g, ' ')
    .trim();

describe('variableDiff', () => {
  it('lists the added, removed and changed variables sorted by name, and leaves the unchanged out', () => {
    expect(variableDiff({ b: 'same', a: 1, z: 'gone', m: 'old' }, { m: 'new', b: 'same', c: null, a: '1' })).toEqual([
      { name: 'a', kind: 'changed', before: 1, after: '1' },
      { name: 'c', kind: 'added', after: null },
      { name: 'm', kind: 'changed', before: 'old', after: 'new' },
      { name: 'z', kind: 'removed', before: 'gone' },
    ]);
  });

  it('compares type and value: 1 and "1", false and null, 0 and "" differ; equal scalars do not', () => {
    expect(variableDiff({ n: 1, f: false, e: 0 }, { n: '1', f: null, e: '' }).map((c) => c.name)).toEqual(['e', 'f', 'n']);
    expect(variableDiff({ n: 1, s: 'x', b: true, z: null }, { z: null, b: true, s: 'x', n: 1 })).toEqual([]);
  });

  it('tells a variable that became null from one that was removed', () => {
    expect(variableDiff({ a: 'x', b: 'y' }, { a: null })).toEqual([
      { name: 'a', kind: 'changed', before: 'x', after: null },
      { name: 'b', kind: 'removed', before: 'y' },
    ]);
  });
});

describe('call page', () => {
  it('has the title and a facts header from the newest revision and the deliveries', () => {
    const h = history();
    const newest = h.revisions[2]!;
    h.revisions[2] = { ...newest, call: { ...newest.call, customer_phone: '+4930123456778', variant: 'famulor' } };
    const page = callPage({ history: h, csrf: 'tok' });
    expect(page).toContain('<title>Call 12345 · aftercall</title>');
    const facts = text(page.slice(page.indexOf('<div class="grid call-facts">'), page.indexOf('<h2>Deliveries</h2>')));
    expect(facts).toContain('Sender acme');
    expect(facts).toContain('Platform autocalls / famulor');
    expect(facts).toContain('Customer +49•••••••••78');
    expect(facts).toContain('First delivery 2026-03-14 09:31:00');
    expect(facts).toContain('Last delivery 2026-03-14 09:34:00');
    expect(facts).toContain('Revisions 3');
    expect(page).not.toContain('+4930123456778');
    expect(page).not.toContain('+1234567890');
  });

  it('lists every delivery oldest first, with outcome, revision, request id and headers or "not recorded"', () => {
    const h = history();
    h.deliveries = [h.deliveries[2]!, h.deliveries[0]!, h.deliveries[3]!, h.deliveries[1]!];
    const rows = tableAfter(callPage({ history: h, csrf: 'tok' }), '<h2>Deliveries</h2>').split('<tr>').slice(2);
    expect(rows.map((r) => /<code>(req-\d)<\/code>/.exec(r)?.[1])).toEqual(['req-1', 'req-2', 'req-3', 'req-4']);
    expect(rows[1]).toContain('<span class="badge duplicate">duplicate</span>');
    expect(rows[1]).toContain('<a href="#revision-1">1</a>');
    expect(rows[1]).toContain('not recorded');
    expect(rows[1]).not.toContain('details');
    expect(rows[0]).toContain('<span class="badge accepted">accepted</span>');
    expect(rows[0]).toContain('<details class="json"><summary>Headers');
    expect(rows[0]).toContain('autocalls-webhook/1.0');
    expect(rows[0]).toContain('2026-03-14 09:31:00');
    expect(rows.every((r) => !/<td(?![^>]*data-label)/.test(r))).toBe(true);
  });

  it('escapes a request id and a header value', () => {
    const h = history({ callId: '<b>99</b>' });
    h.deliveries[0] = delivery(1, { requestId: '<script>alert(1)</script>', headers: { 'x-note': '<script>alert(2)</script>', '<i>': 'v' } });
    const page = callPage({ history: h, csrf: 'tok' });
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<i>');
    expect(page).not.toContain('<b>99');
    expect(page).toContain('<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>');
    expect(page).toContain('&quot;x-note&quot;: &quot;&lt;script&gt;alert(2)&lt;/script&gt;&quot;');
    expect(page).toContain('<title>Call &lt;b&gt;99&lt;/b&gt; · aftercall</title>');
  });

  it('shows revision 1 with its variables and each later one with its changes against the one before', () => {
    const page = callPage({ history: history(), csrf: 'tok' });
    const first = revisionSection(page, 1);
    expect(first).toContain('<table class="cards variable-list">');
    expect(first).toContain('<td data-label="Variable">lead_quality</td><td data-label="Value" class="wide"><code>&quot;high&quot;</code>');
    expect(first).toContain('<td data-label="Variable">count</td><td data-label="Value" class="wide"><code>1</code>');
    expect(first).not.toContain('variable-diff');

    const second = revisionSection(page, 2);
    expect(second).toContain('<span class="badge test">test</span>');
    expect(second).toContain('call <span class="badge completed">completed</span>');
    const rows = second.slice(second.indexOf('<tbody>'), second.indexOf('</tbody>')).split('<tr>').slice(1);
    expect(rows.map((r) => [/data-label="Variable">([^<]*)</.exec(r)?.[1], /class="change (\w+)"/.exec(r)?.[1]])).toEqual([
      ['callback', 'changed'],
      ['contact', 'changed'],
      ['count', 'changed'],
      ['fresh', 'added'],
      ['gone', 'removed'],
    ]);
    // 1 → "1": a change of type reads as one.
    expect(text(rows[2]!)).toBe('count changed 1 → "1"');
    expect(text(rows[3]!)).toBe('fresh added — → true');
    expect(text(rows[4]!)).toBe('gone removed "x" → —');
    expect(second).not.toContain('lead_quality');

    const third = revisionSection(page, 3);
    expect(third).toContain('No change in the extracted variables');
    expect(third).not.toContain('variable-diff');
  });

  it('says when a later revision has no stored predecessor, and lists its variables', () => {
    const page = callPage({ history: history({ revisions: [revision(2, REV2_VARS)] }), csrf: 'tok' });
    const only = revisionSection(page, 2);
    expect(only).toContain('no longer stored');
    expect(only).toContain('<td data-label="Variable">fresh</td>');
  });

  it('masks phones and emails in variables, changes, headers and run errors', () => {
    const h = history();
    h.deliveries[0] = delivery(1, { headers: { 'x-caller': PHONE, from: EMAIL } });
    const page = callPage({ history: h, csrf: 'tok' });
    for (const secret of [PHONE, OTHER_PHONE, EMAIL, OTHER_EMAIL, '15123456789', '17098765432', 'jane.doe', 'john.roe']) {
      expect(page, secret).not.toContain(secret);
    }
    expect(revisionSection(page, 1)).toContain('&quot;+49•••••••••89&quot;');
    expect(revisionSection(page, 2)).toContain('<code>&quot;[email]&quot;</code>');
    expect(revisionSection(page, 3)).toContain('HTTP 500 calling +49•••••••••32 for [email]');
  });

  it('masks a phone held as a bare number and one under a contact key that does not look like a phone', () => {
    const h = history({ revisions: [revision(1, { callback_number: 4915123456789, phone: 'ask for 5123456789' })] });
    const page = callPage({ history: h, csrf: 'tok' });
    expect(page).not.toContain('4915123456789');
    expect(page).not.toContain('5123456789');
  });

  it("lists each revision's own runs with link, mapping, status, attempts and masked error, and counts them", () => {
    const page = callPage({ history: history(), csrf: 'tok' });
    const first = revisionSection(page, 1);
    expect(first).toContain('<a href="/admin/runs/11">#11</a>');
    expect(first).toContain('<span class="badge skipped">skipped</span>');
    expect(first).not.toContain('/admin/runs/12');
    expect(first).not.toContain('/admin/runs/13');
    const third = revisionSection(page, 3);
    expect(third).toContain('<a href="/admin/runs/13">#13</a>');
    expect(third).toContain('<td data-label="Mapping">slack</td>');
    expect(third).toContain('<td data-label="Attempts" class="num">5</td>');
    expect(third).not.toContain('/admin/runs/11');
    expect(text(page.slice(page.indexOf('<h2>Runs</h2>')))).toMatch(/^Runs 3 runs: 1 succeeded 1 dead 1 skipped/);
  });

  it('keeps the facts, deliveries, revisions and runs in one live region that is never final: a call may be delivered again', () => {
    for (const runs of [[run(1, { status: 'succeeded' })], [run(1, { status: 'pending' })], []]) {
      const page = callPage({ history: history({ runs }), csrf: 'tok' });
      const open = page.indexOf('<div data-live-region="call">');
      expect(open, 'the page has a live region').toBeGreaterThan(0);
      expect(page).not.toContain('data-live-final');
      expect(page).toContain('class="live-control"');
      const region = page.slice(open);
      for (const part of ['<div class="grid call-facts">', '<h2>Deliveries</h2>', '<section class="revision" id="revision-1"', '<h2>Runs</h2>']) {
        expect(region.indexOf(part), part).toBeGreaterThan(0);
      }
    }
  });

  it('has no inline style and labels every cell', () => {
    const page = callPage({ history: history(), csrf: 'tok' });
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page.match(/<td(?![^>]*data-label)[^>]*>/g) ?? []).toEqual([]);
  });
});

describe('call groups', () => {
  const A = { sender: 'acme', callId: '100' };
  const A_OTHER_SENDER = { sender: 'globex', callId: '100' };
  const B = { sender: 'acme/eu west', callId: 'conversation:ab#1?x' };
  const C = { sender: 'acme', callId: '300' };

  // Newest first, like a page of the Runs list filtered to some of them.
  const all = [
    run(9, { ...A, revision: 2, status: 'pending' }),
    run(8, { ...B, revision: 1, status: 'dead', customerPhone: null }),
    run(7, { ...A, revision: 2, status: 'dead', mappingName: 'slack' }),
    run(6, { ...C, revision: 1 }),
    run(5, { ...A_OTHER_SENDER, revision: 1, customerPhone: OTHER_PHONE }),
    run(4, { ...A, revision: 1, status: 'succeeded' }),
    run(3, { ...B, revision: 1, status: 'succeeded', customerPhone: OTHER_PHONE }),
    run(2, { ...A, revision: 1, status: 'succeeded', mappingName: 'slack' }),
  ];
  const page = [all[2]!, all[1]!, all[4]!, all[7]!];

  it('groups in the order calls first appear on the page, with all their runs and the matched ones', () => {
    const groups = groupRunsByCall(page, all);
    expect(groups.map((g) => [g.sender, g.callId])).toEqual([
      ['acme', '100'],
      ['acme/eu west', 'conversation:ab#1?x'],
      ['globex', '100'],
    ]);
    expect(groups.map((g) => g.runs.map((r) => r.id))).toEqual([[9, 7, 4, 2], [8, 3], [5]]);
    expect(groups.map((g) => [...g.matched].sort())).toEqual([[2, 7], [8], [5]]);
    expect(groups.map((g) => g.customerPhone)).toEqual([PHONE, OTHER_PHONE, OTHER_PHONE]);
  });

  it("keeps a page's run that the list of all runs lacks", () => {
    const [group] = groupRunsByCall([all[2]!], [all[0]!]);
    expect(group!.runs.map((r) => r.id)).toEqual([9, 7]);
  });

  it('renders one row per call with encoded link, chat badge, masked customer, revisions, status summary and folded runs', () => {
    const table = callGroupsTable(groupRunsByCall(page, all)).value;
    expect(table).toContain('<table class="cards calls">');
    const rows = table.split('<tr>').slice(2);
    expect(rows).toHaveLength(3);
    const [a, b] = rows as [string, string];

    expect(a).toContain('<td data-label="Time">2026-03-14 09:39:00</td>');
    expect(a).toContain('<a href="/admin/calls/acme/100">100</a>');
    expect(a).not.toContain('badge">chat');
    expect(a).toContain('<td data-label="Revisions" class="num">2</td>');
    expect(text(/<td data-label="Status">([\s\S]*?)<\/td>/.exec(a)![1]!)).toBe('1 pending 2 succeeded 1 dead');
    expect(a).toContain('<summary>4 runs');
    expect(a.indexOf('Revision 2')).toBeLessThan(a.indexOf('Revision 1'));

    expect(b).toContain('<a href="/admin/calls/acme%2Feu%20west/conversation%3Aab%231%3Fx">conversation:ab#1?x</a> <span class="badge">chat</span>');
    expect(b).toContain('<td data-label="Sender">acme/eu west</td>');
    expect(b).toContain('<summary>2 runs');

    expect(table).not.toContain(PHONE);
    expect(table).not.toContain(OTHER_PHONE);
    expect(a).toContain('<td data-label="Customer">+49•••••••••89</td>');
    expect(table).not.toMatch(/\sstyle=/i);
    expect(table.match(/<td(?![^>]*data-label)[^>]*>/g) ?? []).toEqual([]);
  });

  it('marks the runs that matched the filter and only those', () => {
    const table = callGroupsTable(groupRunsByCall(page, all)).value;
    const items = [...table.matchAll(/<li[^>]*><a href="\/admin\/runs\/(\d+)">#\d+<\/a>([\s\S]*?)<\/li>/g)].map((m) => [Number(m[1]), m[2]!.includes('class="match"')]);
    expect(items).toEqual([
      [9, false],
      [7, true],
      [4, false],
      [2, true],
      [8, true],
      [3, false],
      [5, true],
    ]);
    expect(table).toContain('<a href="/admin/runs/7">#7</a> slack <span class="badge dead">dead</span> <span class="match">match</span>');
  });

  it('escapes call ids and senders, and says when no call matches', () => {
    const groups: CallGroup[] = [{ sender: '<i>s</i>', callId: '<script>x</script>', customerPhone: null, runs: [run(1, { mappingName: '<b>m</b>' })], matched: new Set([1]) }];
    const table = callGroupsTable(groups).value;
    expect(table).not.toContain('<script>');
    expect(table).not.toContain('<i>');
    expect(table).not.toContain('<b>');
    expect(table).toContain('/admin/calls/%3Ci%3Es%3C%2Fi%3E/%3Cscript%3Ex%3C%2Fscript%3E');
    expect(callGroupsTable([]).value).toContain('<td colspan="7" class="muted">No calls match.</td>');
  });

  it('ships CSS for the classes the views use, on the stylesheet variables', () => {
    for (const selector of ['.status-summary', 'details.call-runs', '.match', 'section.revision', '.change.added', '.change.removed', '.change.changed', 'table.calls']) {
      expect(CALL_CSS, selector).toContain(selector);
    }
    expect(CALL_CSS).not.toMatch(/#[0-9a-f]{3,6}\b/i);
  });
});
