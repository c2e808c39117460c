// Draws the admin analytics page's charts with uPlot: each .analytics-chart holds its data in
// data-series ([[unix seconds…], [values…]…]) and its series' names in data-labels. The
// "Over time" table on the page holds the same figures.
"use strict";
const span = (xs) => {
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  return lo === hi ? [lo - 1800, hi + 1800] : [lo, hi];
};
window.addEventListener("DOMContentLoaded", () => {
  if (typeof uPlot === "undefined") return;
  const colours = ["#0a58ca", "#a40e26", "#2e7d32", "#6f42c1"];
  for (const box of document.querySelectorAll(".analytics-chart")) {
    let data, labels;
    try { data = JSON.parse(box.dataset.series); labels = JSON.parse(box.dataset.labels); } catch { continue; }
    if (!Array.isArray(data) || data[0].length === 0) continue;
    const width = Math.max(320, Math.min(box.clientWidth || 600, 720));
    new uPlot({
      width, height: 200,
      series: [{}, ...labels.map((label, i) => ({ label, stroke: colours[i % colours.length], width: 2 }))],
      // A fixed span from the data (uPlot's own guess for a single point spans years): one
      // point is padded by half an hour each side.
      scales: { x: { time: true, auto: false, range: span(data[0]) } },
    }, data, box);
    box.dataset.drawn = "true";
  }
});
