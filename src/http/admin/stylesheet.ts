// The admin page's only stylesheet, served from /admin/assets/admin.css (no build step,
// no inline styles, so the Content-Security-Policy can forbid them).
export const ADMIN_CSS = `
:root { --fg:#1d2330; --muted:#5f6b7a; --line:#dfe3ea; --bg:#f6f7f9; --ok:#137333; --warn:#b06000; --bad:#b3261e; --info:#1a56db; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:12px; align-items:center; padding:10px 16px; background:#fff; border-bottom:1px solid var(--line); }
header strong { margin-right:auto; }
header a, header button { color:var(--info); text-decoration:none; background:none; border:0; font:inherit; cursor:pointer; padding:0; }
main { padding:16px; max-width:1280px; margin:0 auto; }
h1 { font-size:20px; margin:4px 0 12px; }
h2 { font-size:16px; margin:20px 0 8px; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.02em; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
pre { margin:0; white-space:pre-wrap; word-break:break-word; font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace; background:#f1f3f6; padding:6px; border-radius:4px; max-height:360px; overflow:auto; }
form.filters { display:flex; flex-wrap:wrap; gap:8px; align-items:end; margin-bottom:12px; }
label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
input, select, button { font:inherit; padding:6px 8px; border:1px solid var(--line); border-radius:4px; background:#fff; }
button.primary { background:var(--info); color:#fff; border-color:var(--info); cursor:pointer; }
button.danger { background:var(--bad); color:#fff; border-color:var(--bad); cursor:pointer; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; background:#e8eaed; }
.badge.succeeded, .badge.ok { background:#e6f4ea; color:var(--ok); }
.badge.dead, .badge.failed, .badge.invalid-variables, .badge.quarantined { background:#fce8e6; color:var(--bad); }
.badge.retrying, .badge.started { background:#fef7e0; color:var(--warn); }
.badge.running, .badge.pending { background:#e8f0fe; color:var(--info); }
.badge.test, .badge.skipped { background:#f1f3f4; color:var(--muted); }
.muted { color:var(--muted); }
.error { color:var(--bad); }
.grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(220px,1fr)); gap:8px 16px; background:#fff; border:1px solid var(--line); padding:10px; }
.grid div span { display:block; font-size:12px; color:var(--muted); }
.actions { display:flex; flex-wrap:wrap; gap:8px; margin:12px 0; }
.pager { margin-top:10px; }
.login { max-width:360px; margin:10vh auto; background:#fff; border:1px solid var(--line); padding:20px; border-radius:6px; }
.login form { display:flex; flex-direction:column; gap:10px; }
@media (max-width: 700px) {
  table.runs thead { display:none; }
  table.runs tr { display:block; border-bottom:1px solid var(--line); padding:6px 0; }
  table.runs td { display:flex; justify-content:space-between; border:0; padding:2px 8px; }
  table.runs td::before { content: attr(data-label); color:var(--muted); font-size:12px; margin-right:12px; }
}
`;
