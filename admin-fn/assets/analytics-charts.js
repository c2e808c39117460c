// Draws the admin analytics page's charts with uPlot: each .analytics-chart holds its data in
// data-series ([[unix seconds…], [values…]…]) and its series' names in data-labels. The
// "Over time" table on the page holds the same figures.
"use strict";
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
      // One point gives uPlot no span to scale to: pad it by half an hour each side.
      scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 1800, max + 1800] : [min, max]) } },
    }, data, box);
    box.dataset.drawn = "true";
  }
});
