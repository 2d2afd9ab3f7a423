// The page's other static files: its favicon and the one script. The script only adds copy
// buttons to JSON viewers; every page works without it (CSP allows scripts from this origin
// only, and helmet's nosniff keeps any non-JavaScript answer of this origin from running).

/** A phone handset on the status colour, readable on light and dark tabs. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#1a56db"/>
<path fill="#fff" d="M11.6 7.5c.6-.3 1.3-.1 1.7.5l2 3.2c.4.6.2 1.4-.3 1.8l-1.5 1.1c.9 1.9 2.4 3.5 4.3 4.4l1.1-1.5c.4-.6 1.2-.7 1.8-.3l3.2 2c.6.4.8 1.1.5 1.7l-.9 1.9c-.5 1-1.6 1.6-2.7 1.4C14.6 22.9 9.1 17.4 8.3 11.2c-.1-1.1.4-2.2 1.4-2.7z"/>
</svg>`;

/**
 * Adds a "Copy" button to each `details.json` viewer. navigator.clipboard needs a secure
 * context; elsewhere the JSON is selected instead (the viewer selects all on click anyway).
 */
export const ADMIN_JS = `'use strict';
document.querySelectorAll('details.json').forEach(function (viewer) {
  var summary = viewer.querySelector('summary');
  var pre = viewer.querySelector('pre');
  if (!summary || !pre) return;
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
});
`;
