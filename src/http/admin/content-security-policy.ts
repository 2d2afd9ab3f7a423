// The admin pages' Content-Security-Policy, as helmet's `contentSecurityPolicy.directives`.
// Scripts only from this origin (the one file, /admin/assets/admin.js: no inline script, no
// eval), styles only from this origin (no inline styles). Trusted Types forbid string-to-DOM
// sinks even there, and `trusted-types aftercall-live` lets the page create exactly one policy:
// the live poll's, which turns this origin's own server-rendered (escaped) HTML into a document.

/** The policy name admin.js creates; no other name is allowed by the CSP. */
export const LIVE_TRUSTED_TYPES_POLICY = 'aftercall-live';

export const ADMIN_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  defaultSrc: ["'self'"],
  styleSrc: ["'self'"],
  scriptSrc: ["'self'"],
  requireTrustedTypesFor: ["'script'"],
  trustedTypes: [LIVE_TRUSTED_TYPES_POLICY],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
});
