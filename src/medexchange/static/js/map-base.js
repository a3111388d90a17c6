/* The base map every MedExchange map starts from: default marker icons from the
 * XStatic package, a world view, and tiles when configured — or, with no tile server
 * or when tiles fail to load (offline), a plain background. Reads the container's
 * data-icon-path, data-tile-url and data-tile-attribution. */
(function () {
  "use strict";

  if (typeof L === "undefined") {
    return;
  }

  window.medexchangeBaseMap = function (container) {
    L.Icon.Default.imagePath = container.dataset.iconPath;
    // maxZoom on the map itself: marker clusters need it even without a tile layer.
    var map = L.map(container, { worldCopyJump: true, minZoom: 1, maxZoom: 18 }).setView([15, 10], 2);
    if (container.dataset.tileUrl) {
      var tiles = L.tileLayer(container.dataset.tileUrl, {
        maxZoom: 18,
        attribution: container.dataset.tileAttribution,
      });
      tiles.on("tileerror", function () {
        container.classList.add("map-offline");
      });
      tiles.addTo(map);
    } else {
      container.classList.add("map-offline");
    }
    return map;
  };
})();
