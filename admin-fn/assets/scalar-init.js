// Starts Scalar's interactive reference in #api-reference with the settings in its data
// attributes: the document's URL, and the gateway as the only server (no Scalar proxy, no
// external fonts). Kept out of the page because the CSP allows no inline script.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("api-reference");
  if (!box || typeof Scalar === "undefined") return;
  const servers = box.dataset.gateway ? [{ url: box.dataset.gateway }] : undefined;
  Scalar.createApiReference(box, {
    url: box.dataset.url,
    servers,
    withDefaultFonts: false,
    hideClientButton: false,
    telemetry: false,
  });
});
