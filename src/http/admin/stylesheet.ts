// The admin page's only stylesheet, served from /admin/assets/admin.css (no build step,
// no inline styles, so the Content-Security-Policy can forbid them). Colours are variables so
// dark mode (prefers-color-scheme) only swaps the palette. The panels' own rules live with
// their views and are appended here.
import { ACTIVITY_CSS } from './views/activity-panel.js';
import { CALL_CSS } from './views/call-groups.js';
import { LIVE_CSS } from './views/live-control.js';

const BASE_CSS = `
:root { color-scheme:light dark; --fg:#1d2330; --muted:#5f6b7a; --line:#dfe3ea; --bg:#f6f7f9; --surface:#fff; --code:#f1f3f6;
  --ok:#137333; --ok-bg:#e6f4ea; --warn:#b06000; --warn-bg:#fef7e0; --bad:#b3261e; --bad-bg:#fce8e6; --info:#1a56db; --info-bg:#e8f0fe; --neutral-bg:#eceef1; }
@media (prefers-color-scheme: dark) {
  :root { --fg:#e3e6eb; --muted:#9aa4b2; --line:#343a46; --bg:#15181e; --surface:#1e222a; --code:#262b35;
    --ok:#81c995; --ok-bg:#1e3a28; --warn:#fdd663; --warn-bg:#3d3214; --bad:#f28b82; --bad-bg:#46201d; --info:#8ab4f8; --info-bg:#1f2f4d; --neutral-bg:#2c313b; }
}
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--info); }
header { display:flex; flex-wrap:wrap; gap:12px; align-items:center; padding:10px 16px; background:var(--surface); border-bottom:1px solid var(--line); }
header strong { margin-right:auto; display:flex; align-items:center; gap:6px; }
header form { margin:0; }
header a, header button { color:var(--info); text-decoration:none; background:none; border:0; font:inherit; cursor:pointer; padding:0; }
main { padding:16px; max-width:1280px; margin:0 auto; }
h1 { font-size:20px; margin:4px 0 12px; overflow-wrap:anywhere; }
h2 { font-size:16px; margin:20px 0 8px; }
table { width:100%; border-collapse:collapse; background:var(--surface); border:1px solid var(--line); }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; overflow-wrap:break-word; }
/* Long unbroken values (URLs, ids) may break anywhere, so they never widen a table past the screen. */
code, pre, td a { overflow-wrap:anywhere; }
th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.02em; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
td p { margin:0 0 4px; }
pre { margin:0; white-space:pre-wrap; word-break:break-word; font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace; background:var(--code); padding:6px; border-radius:4px; max-height:360px; overflow:auto; }
details > summary { cursor:pointer; color:var(--info); }
details.json { margin:2px 0; }
details.json > summary .muted { margin:0 6px; }
details.json > pre { margin-top:4px; user-select:all; }
button.copy { font-size:12px; padding:1px 8px; cursor:pointer; }
form.filters { display:flex; flex-wrap:wrap; gap:8px; align-items:end; margin-bottom:12px; }
label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
input, select, button { font:inherit; padding:6px 8px; border:1px solid var(--line); border-radius:4px; background:var(--surface); color:var(--fg); max-width:100%; }
button.primary, a.button.primary { background:var(--info); color:var(--surface); border-color:var(--info); cursor:pointer; }
button.danger { background:var(--bad); color:var(--surface); border-color:var(--bad); cursor:pointer; }
.badge { display:inline-block; white-space:nowrap; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; background:var(--neutral-bg); }
.badge.succeeded, .badge.ok { background:var(--ok-bg); color:var(--ok); }
.badge.dead, .badge.failed, .badge.invalid-variables, .badge.quarantined { background:var(--bad-bg); color:var(--bad); }
.badge.retrying, .badge.started { background:var(--warn-bg); color:var(--warn); }
.badge.running, .badge.pending { background:var(--info-bg); color:var(--info); }
.badge.test, .badge.skipped, .badge.done-before { background:var(--neutral-bg); color:var(--muted); }
.muted { color:var(--muted); }
.error { color:var(--bad); }
.grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(200px,1fr)); gap:8px 16px; background:var(--surface); border:1px solid var(--line); padding:10px; overflow-wrap:anywhere; }
.grid div span { display:block; font-size:12px; color:var(--muted); }
.actions { display:flex; flex-wrap:wrap; gap:8px; margin:12px 0; align-items:stretch; }
.actions form { margin:0; display:flex; }
.actions a, .actions button { display:inline-flex; align-items:center; min-height:34px; padding:6px 12px; border-radius:4px; line-height:1.2; }
.actions a { border:1px solid var(--line); background:var(--surface); text-decoration:none; }
.evidence { border-left:3px solid var(--bad); background:var(--bad-bg); padding:6px 8px; margin:4px 0; border-radius:0 4px 4px 0; }
.evidence p { margin:0 0 4px; }
.evidence .vendor-status { font-weight:700; color:var(--bad); }
.evidence code { overflow-wrap:anywhere; }
.deliveries { margin:0; padding-left:18px; }
.pager { margin-top:10px; display:flex; justify-content:space-between; gap:12px; }
.page-head { display:flex; flex-wrap:wrap; align-items:center; justify-content:space-between; gap:8px; }
.list-head { display:flex; flex-wrap:wrap; align-items:center; gap:8px 16px; margin:8px 0; }
.list-head .count { margin:0; margin-right:auto; }
.list-head a.button { border:1px solid var(--line); background:var(--surface); padding:6px 12px; border-radius:4px; text-decoration:none; }
nav.views { display:flex; gap:0; border:1px solid var(--line); border-radius:4px; overflow:hidden; }
nav.views a { padding:4px 10px; text-decoration:none; background:var(--surface); }
nav.views a[aria-current=page] { background:var(--info); color:var(--surface); }
td.row-actions { display:flex; flex-wrap:wrap; gap:6px; }
p.notice { background:var(--info-bg); color:var(--fg); border-left:3px solid var(--info); padding:6px 10px; border-radius:0 4px 4px 0; }
td.row-actions form { margin:0; }
.login { max-width:360px; margin:10vh auto; background:var(--surface); border:1px solid var(--line); padding:20px; border-radius:6px; }
.login form { display:flex; flex-direction:column; gap:10px; }
@media (max-width: 700px) {
  main { padding:10px; }
  .grid { grid-template-columns:repeat(2, minmax(0, 1fr)); }
  /* Table rows become cards: labelled cells side by side, wide ones (JSON, errors) a line each. */
  table.cards, table.cards tbody { display:block; }
  table.cards thead { display:none; }
  table.cards tr { display:grid; grid-template-columns:repeat(auto-fill, minmax(110px, 1fr)); gap:4px 0; border-bottom:1px solid var(--line); padding:6px 0; }
  table.cards td { display:block; border:0; padding:2px 8px; min-width:0; }
  table.cards td.wide, table.cards td[colspan] { grid-column:1 / -1; }
  table.cards td::before { content: attr(data-label); display:block; color:var(--muted); font-size:11px; }
  table.cards td.num { text-align:left; }
  /* A run is a compact card of three lines, time and call first; dense fills the gaps the wide cells leave. */
  table.runs tr { grid-template-columns:repeat(4, minmax(0, 1fr)); grid-auto-flow:row dense; }
  table.runs td { font-size:13px; }
  table.runs td[data-label=Time], table.runs td[data-label=Customer], table.runs td[data-label=Mapping] { grid-column:span 2; }
}
`;

export const ADMIN_CSS = BASE_CSS + ACTIVITY_CSS + CALL_CSS + LIVE_CSS;
