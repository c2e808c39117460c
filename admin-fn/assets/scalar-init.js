// Starts Scalar's interactive reference in #interactive-reference with the settings in its
// data attributes: the document's URL, and the gateway as the only server (no Scalar proxy,
// no external fonts). Kept out of the page because the CSP allows no inline script.
// Not `#api-reference`: the standalone bundle mounts itself on an element with that id, and
// with this call it rendered twice (two main landmarks, every id twice).
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("interactive-reference");
  if (!box || typeof Scalar === "undefined") return;
  const servers = box.dataset.gateway ? [{ url: box.dataset.gateway }] : undefined;
  Scalar.createApiReference(box, {
    url: box.dataset.url,
    servers,
    withDefaultFonts: false,
    hideClientButton: false,
    telemetry: false,
    // On 127.0.0.1 Scalar shows its own developer toolbar (links out, "Deploy API") by
    // default, and its "Ask AI" agent talks to Scalar's servers: neither belongs here.
    showDeveloperTools: "never",
    agent: { disabled: true },
  });
});

// Scalar's code inputs are comboboxes that say `aria-expanded="true"` while their list is
// open and drop the attribute when it closes; ARIA requires "false" then (axe:
// aria-required-attr, critical), or a screen reader cannot tell the list exists. Fill in
// "false" wherever Scalar left it out; Scalar still sets "true" itself when it opens.
const closedComboboxes = () => {
  for (const box of document.querySelectorAll('#interactive-reference [role="combobox"]:not([aria-expanded])')) {
    box.setAttribute("aria-expanded", "false");
  }
};
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("interactive-reference");
  if (!root) return;
  new MutationObserver(closedComboboxes).observe(root, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["aria-expanded", "role"],
  });
  closedComboboxes();
});
