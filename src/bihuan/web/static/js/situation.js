/* The situation dashboard (态势): charts, map and live numbers over a page that works without them.

   The server renders every number into #situation-live, with the chart data (labels already in the
   page language) in the JSON script #situation-data. This script draws the epi curve (stacked bars:
   found in quarantine vs in the community, by onset or by report date) and the funnel with the
   vendored ECharts, and cases and sites on the vendored Leaflet map without tiles (nothing is fetched
   from another server). It then listens to /api/situation/stream: on "changed" it fetches the same
   page's live fragment, swaps it in, redraws and says when ("updated hh:mm"). */
(function () {
  "use strict";

  var COLOURS = { quarantine: "#0f766e", community: "#b42318" };
  var SITE_COLOURS = { open: "#1d5f9e", full: "#8a5a00", closed: "#7b8794" };
  var state = { basis: "onset", tableOpen: false, epi: null, funnel: null, map: null, layer: null, source: null };

  function data() {
    var node = document.getElementById("situation-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function epiOption(d) {
    var curve = d.epi[state.basis];
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: [d.labels.quarantine, d.labels.community] },
      grid: { left: 40, right: 16, top: 36, bottom: 48 },
      xAxis: { type: "category", data: d.epi.days, name: d.labels[state.basis], nameLocation: "middle", nameGap: 30 },
      yAxis: { type: "value", minInterval: 1, name: d.labels.cases },
      series: ["quarantine", "community"].map(function (key) {
        return { name: d.labels[key], type: "bar", stack: "cases", data: curve[key], itemStyle: { color: COLOURS[key] } };
      })
    };
  }

  function funnelOption(d) {
    return {
      animation: false,
      tooltip: { trigger: "item" },
      series: [{
        type: "funnel",
        sort: "none",
        left: "10%",
        width: "80%",
        minSize: "8%",
        label: { show: true, position: "inside", formatter: "{b}: {c}" },
        data: d.funnel.map(function (row) { return { name: row.label, value: row.value }; })
      }]
    };
  }

  function drawCharts(d) {
    if (!window.echarts) { return; }
    var epi = document.getElementById("epi-chart");
    if (epi) {
      if (state.epi) { state.epi.dispose(); }
      state.epi = window.echarts.init(epi, null, { renderer: "canvas" });
      state.epi.setOption(epiOption(d));
    }
    var funnel = document.getElementById("funnel-chart");
    if (funnel && d.funnel.length) {
      if (state.funnel) { state.funnel.dispose(); }
      state.funnel = window.echarts.init(funnel, null, { renderer: "canvas" });
      state.funnel.setOption(funnelOption(d));
    }
  }

  function tooltip(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function drawMap(d) {
    var container = document.getElementById("situation-map");
    if (!container || !window.L) { return; }
    if (!state.map) {
      state.map = window.L.map(container, { attributionControl: false, zoomSnap: 0.25 });
      window.addEventListener("resize", function () { state.map.invalidateSize(); });
    }
    if (state.layer) { state.layer.remove(); }
    state.layer = window.L.layerGroup().addTo(state.map);
    var points = [];
    d.map.sites.forEach(function (site) {
      var colour = SITE_COLOURS[site.status] || "#4a5868";
      window.L.circleMarker([site.lat, site.lon], { radius: 9, color: colour, fillColor: colour, fillOpacity: 0.5, weight: 2 })
        .bindTooltip(tooltip(site.label)).addTo(state.layer);
      points.push([site.lat, site.lon]);
    });
    d.map.cases.forEach(function (c) {
      var colour = COLOURS[c.found] || COLOURS.community;
      window.L.circleMarker([c.lat, c.lon], { radius: 4, color: colour, fillColor: colour, fillOpacity: 0.9, weight: 1 })
        .bindTooltip(tooltip(c.label)).addTo(state.layer);
      points.push([c.lat, c.lon]);
    });
    if (points.length) {
      state.map.fitBounds(window.L.latLngBounds(points), { padding: [24, 24], maxZoom: 14 });
    } else {
      state.map.setView([30.0, 120.6], 9);
    }
  }

  function bindToggle() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-epi-basis]"), function (button) {
      var basis = button.getAttribute("data-epi-basis");
      button.setAttribute("aria-pressed", String(basis === state.basis));
      button.addEventListener("click", function () {
        state.basis = basis;
        Array.prototype.forEach.call(document.querySelectorAll("[data-epi-basis]"), function (b) {
          b.setAttribute("aria-pressed", String(b.getAttribute("data-epi-basis") === basis));
        });
        var d = data();
        if (d && state.epi) { state.epi.setOption(epiOption(d), true); }
      });
    });
  }

  function foldTable() {
    /* Open without JavaScript (it is the curve then); folded under the drawn chart unless opened. */
    var details = document.querySelector("#situation-epi details");
    if (!details || !state.epi) { return; }
    details.open = state.tableOpen;
    details.addEventListener("toggle", function () { state.tableOpen = details.open; });
  }

  function draw() {
    var d = data();
    if (!d) { return; }
    drawCharts(d);
    drawMap(d);
    bindToggle();
    foldTable();
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function refresh() {
    var root = document.getElementById("situation-live");
    if (!root) { return; }
    var url = root.getAttribute("data-fragment-url");
    return fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("situation fragment: " + response.status); }
        return response.text();
      })
      .then(function (html) {
        root.innerHTML = html;
        draw();
        var now = new Date();
        var stamp = document.getElementById("situation-updated");
        if (stamp) {
          stamp.textContent = stamp.getAttribute("data-label") + " " + pad(now.getHours()) + ":" + pad(now.getMinutes());
          stamp.hidden = false;
        }
        root.setAttribute("data-refreshes", String(Number(root.getAttribute("data-refreshes") || "0") + 1));
      })
      .catch(function () { /* the numbers stay as they were; the next event tries again */ });
  }

  function listen() {
    var root = document.getElementById("situation-live");
    var url = root && root.getAttribute("data-stream-url");
    if (!url || !window.EventSource) { return; }  /* a past day's numbers do not change */
    state.source = new EventSource(url);
    state.source.addEventListener("changed", refresh);
    state.source.addEventListener("open", function () { root.setAttribute("data-live", "true"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    listen();
    window.addEventListener("resize", function () {
      if (state.epi) { state.epi.resize(); }
      if (state.funnel) { state.funnel.resize(); }
    });
  });
})();
