// The visible live-state control of a page that admin.js keeps up to date (see assets.ts):
// a dot, a status text and a Pause/Resume button. Without scripts it says "Reload for updates"
// and the button stays hidden; a final page (a finished run) says so and is never polled.
//
// Contract with admin.js:
//   <div class="live-control" data-live-interval="5000" data-live-state="static">
//     <span class="live-dot"></span>
//     <span class="live-status"><span class="live-state" role="status">…</span><span class="live-updated"></span></span>
//     <button type="button" class="live-toggle" hidden>Pause</button>
//   </div>
// `data-live-final` on the control (rendered by `final: true`) means: do not poll. The parts of
// the page to refresh carry `data-live-region="<name>"` (unique, not nested, never around this
// control); a region with `data-live-final` will not change any more.
import { html, type SafeHtml } from '../html.js';

export const DEFAULT_LIVE_INTERVAL_MS = 5000;

export function liveControl(options: { intervalMs?: number; final?: boolean } = {}): SafeHtml {
  const interval = Math.max(100, Math.round(options.intervalMs ?? DEFAULT_LIVE_INTERVAL_MS));
  if (options.final) {
    return html`<div class="live-control" data-live-interval="${interval}" data-live-final data-live-state="final"><span class="live-dot"></span><span class="live-status"><span class="live-state" role="status">Final</span><span class="live-updated"> · this page will not change</span></span></div>`;
  }
  return html`<div class="live-control" data-live-interval="${interval}" data-live-state="static"><span class="live-dot"></span><span class="live-status"><span class="live-state" role="status">Reload for updates</span><span class="live-updated"></span></span><button type="button" class="live-toggle" hidden>Pause</button></div>`;
}

/**
 * The control's styles, for the admin stylesheet: a green dot while live, grey while paused
 * (or held, final, static), red when offline or the session ended.
 */
export const LIVE_CSS = `
.live-control { display:inline-flex; flex-wrap:wrap; align-items:center; gap:6px 8px; margin:0 0 10px; padding:3px 10px; font-size:12px; color:var(--muted); background:var(--surface); border:1px solid var(--line); border-radius:14px; }
.live-control .live-dot { flex:none; width:8px; height:8px; border-radius:50%; background:var(--muted); }
.live-control[data-live-state=live] .live-dot { background:var(--ok); box-shadow:0 0 0 3px var(--ok-bg); }
.live-control[data-live-state=offline] .live-dot, .live-control[data-live-state=ended] .live-dot { background:var(--bad); box-shadow:0 0 0 3px var(--bad-bg); }
.live-control[data-live-state=offline] .live-status, .live-control[data-live-state=ended] .live-status { color:var(--bad); }
.live-control[data-live-state=live] .live-state { color:var(--ok); font-weight:600; }
.live-control .live-updated { font-variant-numeric:tabular-nums; }
.live-control .live-toggle { margin-right:-6px; font-size:12px; line-height:1.3; padding:1px 10px; border-radius:10px; cursor:pointer; }
.live-control .live-toggle[hidden] { display:none; }
`;
