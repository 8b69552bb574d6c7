/* carenet search map: an SVG map of the results, drawn from their coordinates.
 * No library and no tile server needed. When the page carries a tile URL
 * (MAP_TILE_URL, e.g. https://tile.example.org/{z}/{x}/{y}.png) tiles are laid
 * under the markers; otherwise a plain graticule and a scale bar give context. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var TILE = 256;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  // Web Mercator in "world pixels" at zoom z.
  function project(lat, lon, z) {
    var scale = TILE * Math.pow(2, z);
    var s = Math.sin(Math.max(-85, Math.min(85, lat)) * Math.PI / 180);
    return {
      x: (lon + 180) / 360 * scale,
      y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale
    };
  }

  function destination(lat, lon, miles, bearingDeg) {
    var R = 3958.7613, d = miles / R, b = bearingDeg * Math.PI / 180;
    var p1 = lat * Math.PI / 180, l1 = lon * Math.PI / 180;
    var p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
    var l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1),
                             Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    return [p2 * 180 / Math.PI, l2 * 180 / Math.PI];
  }

  function draw(box) {
    var origin = { lat: parseFloat(box.dataset.lat), lon: parseFloat(box.dataset.lon) };
    var radius = parseFloat(box.dataset.radiusMi) || 10;
    var items = Array.prototype.slice.call(document.querySelectorAll(".result[data-lat]"));
    var points = items.map(function (li) {
      return { lat: parseFloat(li.dataset.lat), lon: parseFloat(li.dataset.lon), li: li };
    });
    var width = box.clientWidth || 320, height = box.clientHeight || 320;
    var ring = [];
    for (var i = 0; i <= 48; i++) { ring.push(destination(origin.lat, origin.lon, radius, i * 7.5)); }
    var lats = ring.map(function (p) { return p[0]; }).concat(points.map(function (p) { return p.lat; }));
    var lons = ring.map(function (p) { return p[1]; }).concat(points.map(function (p) { return p.lon; }));
    // Largest zoom (fractional) at which everything fits with a margin.
    var z = 18;
    for (; z > 1; z -= 0.25) {
      var a = project(Math.max.apply(null, lats), Math.min.apply(null, lons), z);
      var b = project(Math.min.apply(null, lats), Math.max.apply(null, lons), z);
      if (b.x - a.x < width * 0.9 && b.y - a.y < height * 0.9) { break; }
    }
    var c = project(origin.lat, origin.lon, z);
    var ox = c.x - width / 2, oy = c.y - height / 2;
    function xy(lat, lon) { var p = project(lat, lon, z); return [p.x - ox, p.y - oy]; }

    box.textContent = "";
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", height: "100%",
                          "class": "map-svg", role: "presentation" }, box);
    el("rect", { x: 0, y: 0, width: width, height: height, "class": "map-background" }, svg);
    var tileUrl = box.dataset.tileUrl;
    if (tileUrl) { drawTiles(svg, tileUrl, z, ox, oy, width, height); } else { drawGraticule(svg, z, ox, oy, width, height); }
    el("path", { d: "M" + ring.map(function (p) { return xy(p[0], p[1]).join(","); }).join("L") + "Z",
                 "class": "map-radius" }, svg);
    var here = xy(origin.lat, origin.lon);
    var home = el("g", { "class": "map-origin", transform: "translate(" + here[0] + "," + here[1] + ")" }, svg);
    el("rect", { x: -6, y: -6, width: 12, height: 12, transform: "rotate(45)" }, home);
    el("title", {}, home).textContent = "Patient";
    points.forEach(function (p) {
      var at = xy(p.lat, p.lon);
      var g = el("g", { "class": "map-marker", transform: "translate(" + at[0] + "," + at[1] + ")",
                        tabindex: "0", "data-index": p.li.dataset.index }, svg);
      el("circle", { r: 11 }, g);
      var label = el("text", { "text-anchor": "middle", dy: "4" }, g);
      label.textContent = p.li.dataset.index;
      el("title", {}, g).textContent = p.li.dataset.name;
      function focus() {
        items.forEach(function (li) { li.classList.remove("is-focused"); });
        p.li.classList.add("is-focused");
        p.li.scrollIntoView({ block: "nearest" });
      }
      g.addEventListener("click", focus);
      g.addEventListener("keydown", function (e) { if (e.key === "Enter") { focus(); } });
      p.li.addEventListener("mouseenter", function () { g.classList.add("is-focused"); });
      p.li.addEventListener("mouseleave", function () { g.classList.remove("is-focused"); });
    });
    drawScale(svg, origin.lat, z, width, height);
  }

  function drawTiles(svg, template, zoom, ox, oy, width, height) {
    var z = Math.max(0, Math.min(19, Math.round(zoom)));
    var k = Math.pow(2, zoom - z), size = TILE * k, n = Math.pow(2, z);
    for (var tx = Math.floor(ox / size); tx * size < ox + width; tx++) {
      for (var ty = Math.floor(oy / size); ty * size < oy + height; ty++) {
        if (ty < 0 || ty >= n) { continue; }
        var x = ((tx % n) + n) % n;
        var href = template.replace("{z}", z).replace("{x}", x).replace("{y}", ty).replace("{s}", "abc"[(x + ty) % 3]);
        el("image", { href: href, x: tx * size - ox, y: ty * size - oy, width: size + 0.5, height: size + 0.5,
                      "class": "map-tile" }, svg);
      }
    }
  }

  function drawGraticule(svg, z, ox, oy, width, height) {
    var step = z > 10 ? 0.05 : (z > 8 ? 0.1 : (z > 6 ? 0.5 : 1));
    var tl = unproject(ox, oy, z), br = unproject(ox + width, oy + height, z);
    for (var lon = Math.ceil(tl.lon / step) * step; lon < br.lon; lon += step) {
      var x = project(0, lon, z).x - ox;
      el("line", { x1: x, y1: 0, x2: x, y2: height, "class": "map-grid" }, svg);
    }
    for (var lat = Math.ceil(br.lat / step) * step; lat < tl.lat; lat += step) {
      var y = project(lat, 0, z).y - oy;
      el("line", { x1: 0, y1: y, x2: width, y2: y, "class": "map-grid" }, svg);
    }
  }

  function unproject(x, y, z) {
    var scale = TILE * Math.pow(2, z);
    var n = Math.PI - 2 * Math.PI * y / scale;
    return { lon: x / scale * 360 - 180, lat: 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))) };
  }

  function drawScale(svg, lat, z, width, height) {
    var metersPerPixel = 156543.03392 * Math.cos(lat * Math.PI / 180) / Math.pow(2, z);
    var miles = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100].filter(function (m) {
      return m * 1609.344 / metersPerPixel < width / 3;
    }).pop() || 0.1;
    var px = miles * 1609.344 / metersPerPixel;
    var g = el("g", { "class": "map-scale", transform: "translate(10," + (height - 14) + ")" }, svg);
    el("line", { x1: 0, y1: 0, x2: px, y2: 0 }, g);
    el("text", { x: px + 6, y: 4 }, g).textContent = miles + " mi";
  }

  function start() {
    var box = document.getElementById("search-map");
    if (!box) { return; }
    draw(box);
    var pending;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { draw(box); }, 150);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
