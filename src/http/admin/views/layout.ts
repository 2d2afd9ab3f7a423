import { pretty } from '../format.js';
import { html, type SafeHtml } from '../html.js';

export function layout(title: string, body: SafeHtml, session?: { csrf: string }): string {
  const nav = session
    ? html`<a href="/admin">Runs</a><a href="/admin/inbound">Inbound</a><a href="/admin/quarantine">Quarantine</a>
        <form method="post" action="/admin/logout"><input type="hidden" name="_csrf" value="${session.csrf}"><button type="submit">Log out</button></form>`
    : html``;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · aftercall</title>
<link rel="icon" href="/admin/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/admin/assets/admin.css">
<script src="/admin/assets/admin.js" defer></script>
</head>
<body>
<header><strong>aftercall</strong>${nav}</header>
<main>${body}</main>
</body>
</html>`.value;
}

/**
 * JSON in a collapsed viewer: a click on the text selects all of it (copy without scripts),
 * admin.js adds a copy button. `value` is shown as given: mask it before. `key` names it uniquely on the page.
 */
export function jsonViewer(label: string, value: unknown, options: { open?: boolean; key?: string } = {}): SafeHtml {
  const text = pretty(value);
  const lines = text.split('\n').length;
  // data-key: the live update keeps this viewer open or closed across a refresh.
  return html`<details class="json"${options.open ? html` open` : ''}${options.key ? html` data-key="${options.key}"` : ''}><summary>${label} <span class="muted">${lines === 1 ? text.length > 40 ? '1 line' : text : `${lines} lines`}</span></summary><pre>${text}</pre></details>`;
}

export function badge(status: string): SafeHtml {
  return html`<span class="badge ${status}">${status}</span>`;
}

/** A POST button with the CSRF token; `confirm` pages are separate GET pages, no script. */
export function postButton(action: string, label: string, csrf: string, kind: 'primary' | 'danger' = 'primary'): SafeHtml {
  return html`<form method="post" action="${action}"><input type="hidden" name="_csrf" value="${csrf}"><button class="${kind}" type="submit">${label}</button></form>`;
}
