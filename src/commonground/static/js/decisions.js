/* Decisions: result charts (ECharts) and a gentler ranked ballot. No inline scripts (CSP). */
(function () {
  "use strict";

  function drawCharts() {
    var dataNode = document.getElementById("result-chart-data");
    if (!dataNode || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(dataNode.textContent);
    var bars = document.getElementById("result-bars");
    if (bars && data.bars.length) {
      var chart = window.echarts.init(bars, null, { renderer: "svg" });
      chart.setOption({
        aria: { enabled: true },
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", top: 0 },
        grid: { containLabel: true, top: 40 },
        xAxis: { type: "category", data: data.candidates },
        yAxis: { type: "value", name: "Votes" },
        series: data.bars.map(function (round) {
          return { name: "Round " + round.round, type: "bar", data: round.values };
        })
      });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var sankey = document.getElementById("result-sankey");
    if (sankey && data.sankey.links.length) {
      var flow = window.echarts.init(sankey, null, { renderer: "svg" });
      flow.setOption({
        aria: { enabled: true },
        tooltip: { trigger: "item" },
        series: [{
          type: "sankey", data: data.sankey.nodes, links: data.sankey.links,
          left: 8, right: 160, top: 10, bottom: 10,
          emphasis: { focus: "adjacency" }, nodeAlign: "left", label: { fontSize: 11 }
        }]
      });
      window.addEventListener("resize", function () { flow.resize(); });
    }
  }

  /* Ranked ballots: when a rank is given to a second candidate, clear it on the first,
     and say so in a live region. Works without this script too (server validation). */
  function enhanceRanking(root) {
    var selects = root.querySelectorAll("fieldset.ranking select.rank-select");
    if (!selects.length) { return; }
    var fieldset = root.querySelector("fieldset.ranking");
    if (fieldset.dataset.enhanced) { return; }
    fieldset.dataset.enhanced = "1";
    if (fieldset.closest("form").querySelector("[data-equal-ranks]")) { return; }
    var status = document.createElement("p");
    status.className = "help";
    status.setAttribute("role", "status");
    fieldset.appendChild(status);
    selects.forEach(function (select) {
      select.addEventListener("change", function () {
        if (!select.value) { return; }
        selects.forEach(function (other) {
          if (other !== select && other.value === select.value) {
            other.value = "";
            var label = fieldset.querySelector("label[for='" + other.id + "']");
            status.textContent = "Rank " + select.value + " moved here; " +
              (label ? label.textContent : "another candidate") + " is now not ranked.";
          }
        });
      });
    });
  }

  function focusReceipt(event) {
    var target = event && event.detail && event.detail.target;
    if (target && target.id === "ballot") {
      var receipt = document.getElementById("ballot");
      if (receipt) { receipt.focus(); }
      enhanceRanking(document);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    enhanceRanking(document);
  });
  document.addEventListener("htmx:afterSwap", focusReceipt);
})();
