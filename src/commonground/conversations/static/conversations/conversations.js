/* Conversations: answer with one key (A, D, P), keep the keyboard focus on the
   statement after each htmx swap, and draw the opinion map (ECharts) with the
   viewer's own point. Everything works without this script: plain forms, and a
   table beside the chart. No inline scripts (CSP). */
(function () {
  "use strict";

  var GROUP_COLOURS = ["#1b6ca8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e", "#a16207", "#be185d"];
  var KEYS = { a: "a", d: "d", p: "p" };
  var voting = false;

  function isTyping(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
    if (isTyping(event.target)) { return; }
    var key = KEYS[(event.key || "").toLowerCase()];
    if (!key) { return; }
    var card = document.getElementById("statement-card");
    if (!card) { return; }
    var button = card.querySelector("button[data-key='" + key + "']");
    if (!button || button.disabled || voting) { return; }
    event.preventDefault();
    button.click();
  });

  /* An answer sent from the statement card: disable its buttons until the next
     statement arrives, then put the keyboard focus on that statement. */
  var refocus = false;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.closest && elt.closest("#statement-card")) {
      voting = true;
      refocus = true;
      elt.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }
  });

  /* Keys wait until htmx has taken the new card over (a key pressed between the
     swap and that moment would post its form the plain way, reloading the page). */
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail || !event.detail.successful) { voting = false; refocus = false; }
  });

  /* The swapped-in card announces itself with htmx:load (events on the card it
     replaced no longer reach the document). */
  function focusStatement() {
    var card = document.getElementById("statement-card");
    if (card) { card.setAttribute("data-ready", "true"); }
    voting = false;
    if (!refocus) { return; }
    var text = document.getElementById("statement-text");
    if (text) {
      refocus = false;
      text.focus();
    }
  }
  document.addEventListener("htmx:load", focusStatement);
  document.addEventListener("htmx:afterSettle", focusStatement);

  function drawMap() {
    var node = document.getElementById("opinion-map-data");
    var box = document.getElementById("opinion-map");
    if (!node || !box || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var meNode = document.getElementById("opinion-map-me");
    var me = meNode ? JSON.parse(meNode.textContent) : null;
    if (!data || !data.points) { return; }
    var series = [];
    data.groups.forEach(function (group, index) {
      series.push({
        name: group.name,
        type: "scatter",
        symbolSize: 7,
        itemStyle: { color: GROUP_COLOURS[index % GROUP_COLOURS.length], opacity: 0.75 },
        data: data.points.filter(function (p) { return p[2] === index; }).map(function (p) { return [p[0], p[1]]; })
      });
    });
    var loose = data.points.filter(function (p) { return p[2] < 0; });
    if (loose.length) {
      series.push({
        name: box.dataset.looseLabel || "Not in a group yet",
        type: "scatter", symbolSize: 5,
        itemStyle: { color: "#767676", opacity: 0.6 },
        data: loose.map(function (p) { return [p[0], p[1]]; })
      });
    }
    if (me) {
      series.push({
        name: box.dataset.meLabel || "You",
        type: "scatter", symbol: "pin", symbolSize: 34, z: 10,
        itemStyle: { color: "#111111" },
        label: { show: true, formatter: box.dataset.meLabel || "You", position: "top", color: "#111111", fontWeight: "bold" },
        data: [[me.x, me.y]]
      });
    }
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      aria: { enabled: true },
      animation: false,
      tooltip: { trigger: "item", formatter: function (p) { return p.seriesName; } },
      legend: { top: 0, type: "scroll" },
      grid: { top: 36, left: 8, right: 8, bottom: 8 },
      xAxis: { type: "value", show: false, scale: true },
      yAxis: { type: "value", show: false, scale: true },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var card = document.getElementById("statement-card");
    if (card) { card.setAttribute("data-ready", "true"); }
    drawMap();
  });
})();
