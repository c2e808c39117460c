// Draws the usage page's chart with uPlot from the data in #usage-chart[data-series]
// ([[unix seconds…], [requests…], [errors…]]); the table below it holds the same figures.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("usage-chart");
  if (!box || typeof uPlot === "undefined") return;
  let data;
  try { data = JSON.parse(box.dataset.series); } catch { return; }
  if (!Array.isArray(data) || data[0].length === 0) return;
  const width = Math.max(320, Math.min(box.clientWidth || 800, 960));
  new uPlot({
    width, height: 260,
    series: [
      {},
      { label: "Requests", stroke: "#0a58ca", width: 2 },
      { label: "Errors", stroke: "#a40e26", width: 2 },
    ],
    // One point gives uPlot no span to scale to (it once drew years): pad it by an hour.
    scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 1800, max + 1800] : [min, max]) } },
    axes: [{}, { label: "calls" }],
  }, data, box);
});
