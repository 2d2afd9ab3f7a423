import { html, type SafeHtml } from '../html.js';

export function layout(title: string, body: SafeHtml, session?: { csrf: string }): string {
  const nav = session
    ? html`<a href="/admin">Runs</a><a href="/admin/quarantine">Quarantine</a>
        <form method="post" action="/admin/logout"><input type="hidden" name="_csrf" value="${session.csrf}"><button type="submit">Log out</button></form>`
    : html``;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · aftercall</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
</head>
<body>
<header><strong>aftercall</strong>${nav}</header>
<main>${body}</main>
</body>
</html>`.value;
}

export function badge(status: string): SafeHtml {
  return html`<span class="badge ${status}">${status}</span>`;
}

/** A POST button with the CSRF token; `confirm` pages are separate GET pages, no script. */
export function postButton(action: string, label: string, csrf: string, kind: 'primary' | 'danger' = 'primary'): SafeHtml {
  return html`<form method="post" action="${action}"><input type="hidden" name="_csrf" value="${csrf}"><button class="${kind}" type="submit">${label}</button></form>`;
}
