// The page's other static files: its favicon and the one script. Every page works without the
// script (CSP allows scripts from this origin only, and helmet's nosniff keeps any non-JavaScript
// answer of this origin from running); with it, JSON viewers get copy buttons and pages with a
// live control (views/live-control.ts) refresh their `data-live-region`s by polling themselves.

/** A phone handset on the status colour, readable on light and dark tabs. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#1a56db"/>
<path fill="#fff" d="M11.6 7.5c.6-.3 1.3-.1 1.7.5l2 3.2c.4.6.2 1.4-.3 1.8l-1.5 1.1c.9 1.9 2.4 3.5 4.3 4.4l1.1-1.5c.4-.6 1.2-.7 1.8-.3l3.2 2c.6.4.8 1.1.5 1.7l-.9 1.9c-.5 1-1.6 1.6-2.7 1.4C14.6 22.9 9.1 17.4 8.3 11.2c-.1-1.1.4-2.2 1.4-2.7z"/>
</svg>`;

/** The sessionStorage key that keeps a tab's Pause across reloads and admin pages. */
export const LIVE_PAUSED_KEY = 'aftercall-live-paused';

/** The request header of the live poll's fetches (the page itself, same origin). */
export const LIVE_REQUEST_HEADER = 'x-aftercall-live';

/**
 * admin.js, plain ES5-style, no modules, no eval, no inline handlers, no string-to-DOM sink but
 * the one Trusted Types policy the CSP allows ('aftercall-live'):
 *
 * - `enhance(root)`: a "Copy" button on each `details.json` viewer (navigator.clipboard needs a
 *   secure context; elsewhere the JSON is selected instead). Runs at load and on every region
 *   swapped in.
 * - the live poll, only on a page with a `.live-control` not marked `data-live-final`: every
 *   `data-live-interval` ms while not paused and the tab is visible (and at once when it becomes
 *   visible again), it fetches the page itself and replaces each `[data-live-region=name]` with
 *   the new one of that name, keeping which `<details>` were open (by `data-key`, else position).
 *   A region the user is working in (focus, a checked checkbox, a text selection) is left for
 *   the next time. It stops when every region carries `data-live-final` ("Final"), or when the
 *   answer is a redirect (fetched with redirect 'manual': the admin pages redirect to
 *   /admin/login once the session ended), the login page, or anything but a 200 HTML page
 *   ("Session ended — reload"). Network errors and 5xx answers show "Offline — retrying" and
 *   back off (the interval doubled, at most 60 s) until an answer arrives.
 */
export const ADMIN_JS = `'use strict';
(function () {
  var own = function (object, key) { return Object.prototype.hasOwnProperty.call(object, key); };

  function addCopyButton(viewer) {
    var summary = viewer.querySelector('summary');
    var pre = viewer.querySelector('pre');
    if (!summary || !pre || summary.querySelector('button.copy')) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy';
    button.textContent = 'Copy';
    button.addEventListener('click', function (event) {
      event.preventDefault();
      var done = function (label) { button.textContent = label; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(pre.textContent || '').then(function () { done('Copied'); }, function () { done('Select and copy'); });
      } else {
        viewer.open = true;
        var range = document.createRange();
        range.selectNodeContents(pre);
        var selection = window.getSelection();
        if (selection) { selection.removeAllRanges(); selection.addRange(range); }
        done('Selected');
      }
    });
    summary.appendChild(button);
  }

  function enhance(root) {
    if (root.matches && root.matches('details.json')) addCopyButton(root);
    var viewers = root.querySelectorAll('details.json');
    for (var i = 0; i < viewers.length; i++) addCopyButton(viewers[i]);
  }

  enhance(document);

  // ---- live updates ----
  var control = document.querySelector('.live-control');
  if (!control || control.hasAttribute('data-live-final')) return;
  if (!window.fetch || !window.DOMParser) return;

  var PAUSED_KEY = '${LIVE_PAUSED_KEY}';
  var MAX_DELAY = 60000;
  var base = parseInt(control.getAttribute('data-live-interval') || '', 10);
  if (!(base >= 100)) base = 5000;
  var stateText = control.querySelector('.live-state') || control.querySelector('.live-status');
  var updatedText = control.querySelector('.live-updated');
  var toggle = control.querySelector('.live-toggle');

  function regions() { return document.querySelectorAll('[data-live-region]'); }
  function allFinal() {
    var list = regions();
    for (var i = 0; i < list.length; i++) if (!list[i].hasAttribute('data-live-final')) return false;
    return true;
  }
  function show(state, text, detail) {
    control.setAttribute('data-live-state', state);
    if (!stateText) return;
    if (!updatedText) text += detail;
    // Only on change: the state is a role=status live region, read out when it changes.
    if (stateText.textContent !== text) stateText.textContent = text;
    if (updatedText && updatedText.textContent !== detail) updatedText.textContent = detail;
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function clock() { var d = new Date(); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }

  if (regions().length === 0) return; // nothing to refresh: the page keeps its "Reload for updates"
  if (allFinal()) { show('final', 'Final', ''); return; }

  var policy = null;
  if (window.trustedTypes && window.trustedTypes.createPolicy) {
    // The server escapes every value it renders: its own same-origin page is trusted markup.
    try { policy = window.trustedTypes.createPolicy('aftercall-live', { createHTML: function (s) { return s; } }); }
    catch (error) { return; } // the CSP forbids the policy: stay a static page
  }

  function readPaused() { try { return window.sessionStorage.getItem(PAUSED_KEY) === '1'; } catch (error) { return false; } }
  function savePaused(value) {
    try { if (value) window.sessionStorage.setItem(PAUSED_KEY, '1'); else window.sessionStorage.removeItem(PAUSED_KEY); } catch (error) { /* storage off: pause for this page only */ }
  }

  var paused = readPaused();
  var stopped = false;
  var inFlight = false;
  var generation = 0; // bumped by Pause: an answer already on its way is dropped
  var delay = base;
  var timer = null;

  function renderToggle() {
    if (!toggle) return;
    toggle.hidden = stopped;
    toggle.textContent = paused ? 'Resume' : 'Pause';
  }
  function schedule(ms) {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (stopped || paused) return;
    timer = setTimeout(tick, ms);
  }
  function tick() {
    timer = null;
    if (stopped || paused || inFlight) return;
    if (document.visibilityState !== 'visible') return; // visibilitychange polls when the tab is back
    poll();
  }
  function stop(state, text) {
    stopped = true;
    if (timer !== null) { clearTimeout(timer); timer = null; }
    show(state, text, '');
    renderToggle();
  }
  function offline() {
    delay = Math.min(delay * 2, MAX_DELAY);
    show('offline', 'Offline \\u2014 retrying', '');
    schedule(delay);
  }

  function busy(region) {
    var active = document.activeElement;
    if (active && active !== document.body && region.contains(active)) return true;
    if (region.querySelector('input[type=checkbox]:checked')) return true;
    var selection = window.getSelection ? window.getSelection() : null;
    return !!(selection && !selection.isCollapsed && selection.rangeCount > 0 && region.contains(selection.getRangeAt(0).commonAncestorContainer));
  }
  function detailsOf(region) {
    var list = region.querySelectorAll('details');
    var out = [];
    var position = 0;
    for (var i = 0; i < list.length; i++) {
      var key = list[i].getAttribute('data-key');
      out.push({ element: list[i], key: key !== null ? 'key:' + key : 'at:' + position++ });
    }
    return out;
  }
  function keepOpen(from, to) {
    var open = {};
    detailsOf(from).forEach(function (entry) { open[entry.key] = entry.element.open; });
    detailsOf(to).forEach(function (entry) { if (own(open, entry.key)) entry.element.open = open[entry.key]; });
  }

  function apply(text) {
    delay = base;
    var doc = new DOMParser().parseFromString(policy ? policy.createHTML(text) : text, 'text/html');
    var current = {};
    var list = regions();
    for (var i = 0; i < list.length; i++) {
      var name = list[i].getAttribute('data-live-region');
      if (!own(current, name)) current[name] = list[i];
    }
    var held = false;
    var fresh = doc.querySelectorAll('[data-live-region]');
    for (var j = 0; j < fresh.length; j++) {
      var next = fresh[j];
      if (next.parentElement && next.parentElement.closest('[data-live-region]')) continue; // comes with its outer region
      var key = next.getAttribute('data-live-region');
      var old = own(current, key) ? current[key] : null;
      if (!old || !old.isConnected || old.hasAttribute('data-live-final')) continue;
      if (busy(old)) { held = true; continue; }
      var imported = document.importNode(next, true);
      keepOpen(old, imported);
      old.replaceWith(imported);
      enhance(imported);
    }
    if (allFinal()) { stop('final', 'Final'); return; }
    if (held) show('held', 'Paused while you select', '');
    else show('live', 'Live', ' \\u00b7 updated ' + clock());
    schedule(delay);
  }

  function poll() {
    inFlight = true;
    var mine = generation;
    // redirect: 'manual': the page itself redirecting means the session ended (the admin pages send
    // a GET without one to /admin/login). Followed, that redirect would even fail as a network
    // error on a plain-http origin, where helmet's upgrade-insecure-requests turns it into https.
    fetch(location.href, { credentials: 'same-origin', cache: 'no-store', redirect: 'manual', headers: { '${LIVE_REQUEST_HEADER}': '1' } })
      .then(function (response) {
        if (response.type === 'opaqueredirect' || response.redirected) return { kind: 'ended' };
        var path = '';
        try { path = new URL(response.url, location.href).pathname; } catch (error) { path = ''; }
        if (path === '/admin/login') return { kind: 'ended' };
        if (response.status >= 500) return { kind: 'offline' };
        var type = response.headers.get('content-type') || '';
        if (response.status !== 200 || !/^text\\/html/i.test(type)) return { kind: 'ended' };
        return response.text().then(function (body) { return { kind: 'page', body: body }; });
      })
      .then(function (result) {
        inFlight = false;
        if (stopped || paused) return;
        if (mine !== generation) { schedule(delay); return; }
        if (result.kind === 'ended') stop('ended', 'Session ended \\u2014 reload');
        else if (result.kind === 'offline') offline();
        else apply(result.body);
      }, function () {
        inFlight = false;
        if (stopped || paused) return;
        if (mine !== generation) { schedule(delay); return; }
        offline();
      });
  }

  if (toggle) {
    toggle.addEventListener('click', function () {
      if (stopped) return;
      paused = !paused;
      savePaused(paused);
      if (paused) {
        generation++;
        schedule(0); // clears the timer: nothing is scheduled while paused
        show('paused', 'Paused', '');
      } else {
        show('live', 'Live', '');
        if (!inFlight) poll();
      }
      renderToggle();
    });
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible' || stopped || paused || inFlight) return;
    if (timer !== null) { clearTimeout(timer); timer = null; }
    poll();
  });

  renderToggle();
  if (paused) show('paused', 'Paused', '');
  else { show('live', 'Live', ' \\u00b7 updated ' + clock()); schedule(delay); }
})();
`;
