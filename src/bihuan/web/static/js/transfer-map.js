/* The transfer map (快转运): sites, pickup stops and batch routes drawn with the vendored Leaflet.
   No tile layer: nothing is fetched from another server, so the map shows positions on a plain
   background. Each .transfer-map element names its JSON data (data-map-source); the labels in it
   are already in the page language. Without JavaScript the page works; only the map is missing. */
(function () {
  "use strict";

  var SITE_COLOURS = { open: "#1f7a3d", full: "#b42318", closed: "#7b8794" };
  var ROUTE_COLOURS = { planned: "#1d5f9e", dispatched: "#8a5a00" };

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function sitePopup(site, labels) {
    var box = element("div");
    box.appendChild(element("strong", site.name));
    box.appendChild(element("span", " " + site.city + (site.status === "full" ? " · " + labels.full : "")));
    var list = element("ul", null, "map-popup-list");
    site.places.forEach(function (p) {
      list.appendChild(element("li", p.category + ": " + p.free + " / " + p.places + " " + labels.free));
    });
    box.appendChild(list);
    return box;
  }

  function stopPopup(route, stop, index, labels) {
    var box = element("div");
    var link = element("a", route.code);
    link.href = route.url;
    box.appendChild(link);
    box.appendChild(element("span", " · " + route.category));
    box.appendChild(element("div", labels.stop + " " + (index + 1) + ": " + (stop.text || "—")));
    box.appendChild(element("div", stop.people + " " + labels.people));
    return box;
  }

  function draw(container) {
    var source = document.getElementById(container.getAttribute("data-map-source"));
    if (!source || !window.L) { return; }
    var data = JSON.parse(source.textContent);
    var labels = data.labels || {};
    var map = window.L.map(container, { attributionControl: false, zoomSnap: 0.25 });
    var points = [];

    data.routes.forEach(function (route) {
      var colour = ROUTE_COLOURS[route.status] || "#4a5868";
      var line = route.stops.map(function (s) { return [s.lat, s.lon]; });
      line.push(route.site);
      window.L.polyline(line, { color: colour, weight: 3, opacity: 0.8 })
        .bindTooltip(element("span", route.code + " · " + route.category))
        .addTo(map);
      route.stops.forEach(function (stop, index) {
        window.L.circleMarker([stop.lat, stop.lon], { radius: 5, color: colour, fillColor: "#ffffff", fillOpacity: 1, weight: 2 })
          .bindPopup(stopPopup(route, stop, index, labels))
          .addTo(map);
        points.push([stop.lat, stop.lon]);
      });
      window.L.circleMarker(route.site, { radius: 7, color: colour, fillColor: colour, fillOpacity: 0.9, weight: 2 })
        .bindTooltip(element("span", route.site_name))
        .addTo(map);
      points.push(route.site);
    });

    data.sites.forEach(function (site) {
      var colour = SITE_COLOURS[site.status] || "#4a5868";
      window.L.circleMarker([site.lat, site.lon], { radius: 9, color: colour, fillColor: colour, fillOpacity: 0.6, weight: 2 })
        .bindPopup(sitePopup(site, labels))
        .bindTooltip(element("span", site.name))
        .addTo(map);
      points.push([site.lat, site.lon]);
    });

    if (points.length) {
      map.fitBounds(window.L.latLngBounds(points), { padding: [24, 24], maxZoom: 14 });
    } else {
      map.setView([30.0, 120.6], 9);
    }
    window.addEventListener("resize", function () { map.invalidateSize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".transfer-map"), draw);
  });
})();
