import { html } from '../html.js';
import { layout } from './layout.js';

export function loginPage(options: { csrf: string; error?: string; next?: string }): string {
  return layout(
    'Log in',
    html`<div class="login">
  <h1>Runs</h1>
  <p class="muted">Enter the ADMIN_TOKEN of this aftercall instance.</p>
  ${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
  <form method="post" action="/admin/login">
    <input type="hidden" name="_csrf" value="${options.csrf}">
    <input type="hidden" name="next" value="${options.next ?? '/admin'}">
    <label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
    <button class="primary" type="submit">Log in</button>
  </form>
</div>`,
  );
}
