// Small progressive enhancements; every page works without this file.
// - [data-copy="<element id>"] buttons copy that element's text.
// - An element with [data-secret] (a key shown once) is kept in sessionStorage under
//   `gatehouse.key`, so the try-it console of this browser tab can use it; it never leaves the browser.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy";
  }
});
for (const secret of document.querySelectorAll("[data-secret]")) {
  try { sessionStorage.setItem("gatehouse.key", secret.textContent.trim()); } catch { /* storage off */ }
}
