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
    axes: [{}, { label: "calls" }],
  }, data, box);
});
