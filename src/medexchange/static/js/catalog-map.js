/* Catalog maps, progressive like the partner map and the location picker:
 * - #catalog-map: the hosts of a search's results, from the GeoJSON endpoint;
 * - #opportunity-map: one host on a small map (only shown when tiles are set up).
 * Without JavaScript the pages show the same information as lists and text. */
(function () {
  "use strict";

  if (typeof L === "undefined" || !window.medexchangeBaseMap) {
    return;
  }

  function hostMap(container) {
    var lat = parseFloat(container.dataset.lat);
    var lon = parseFloat(container.dataset.lon);
    if (!container.dataset.tileUrl || !isFinite(lat) || !isFinite(lon)) {
      return;
    }
    container.parentElement.hidden = false;
    var map = window.medexchangeBaseMap(container);
    L.marker([lat, lon], { title: container.dataset.name }).addTo(map);
    map.setView([lat, lon], 12);
    container.dataset.ready = "true";
  }

  function resultsMap(container) {
    document.documentElement.classList.add("js");
    var list = document.getElementById("catalog-map-list");
    var count = document.getElementById("catalog-map-count");
    var map = window.medexchangeBaseMap(container);
    var cluster = L.markerClusterGroup
      ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false })
      : L.featureGroup();
    map.addLayer(cluster);

    function popupContent(p) {
      var box = document.createElement("div");
      var title = document.createElement("strong");
      title.textContent = p.name;
      var meta = document.createElement("p");
      meta.textContent = p.city + " · " +
        container.dataset.resultsTemplate.replace("__count__", String(p.opportunities));
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = container.dataset.openLabel;
      box.appendChild(title);
      box.appendChild(meta);
      box.appendChild(link);
      return box;
    }

    function build(collection) {
      var markers = [];
      var fragment = document.createDocumentFragment();
      collection.features.forEach(function (feature) {
        var c = feature.geometry.coordinates;
        var marker = L.marker([c[1], c[0]], { title: feature.properties.name });
        marker.bindPopup(function () { return popupContent(feature.properties); });
        markers.push(marker);
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.textContent = feature.properties.name;
        button.addEventListener("click", function () {
          if (cluster.zoomToShowLayer) {
            cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
          } else {
            map.setView(marker.getLatLng(), 10);
            marker.openPopup();
          }
        });
        var where = document.createElement("span");
        where.className = "muted";
        where.textContent = " " + feature.properties.city + " · " +
          container.dataset.resultsTemplate.replace("__count__", String(feature.properties.opportunities));
        item.appendChild(button);
        item.appendChild(where);
        fragment.appendChild(item);
      });
      list.appendChild(fragment);
      if (cluster.addLayers) {
        cluster.addLayers(markers);
      } else {
        markers.forEach(function (marker) { cluster.addLayer(marker); });
      }
      count.textContent = container.dataset.countTemplate.replace("__count__", String(markers.length));
      if (markers.length) {
        var bounds = L.latLngBounds(markers.map(function (m) { return m.getLatLng(); }));
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 8, animate: false });
      }
      container.dataset.ready = "true";
    }

    fetch(container.dataset.geojsonUrl, { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.statusText);
        }
        return response.json();
      })
      .then(build)
      .catch(function () {
        count.textContent = container.dataset.errorLabel;
      });
  }

  var results = document.getElementById("catalog-map");
  if (results) {
    resultsMap(results);
  }
  var host = document.getElementById("opportunity-map");
  if (host) {
    hostMap(host);
  }
})();
