/* Partner map: markers from the GeoJSON endpoint, filtered in the browser so
 * ticking a box costs no download. Works offline: without tiles the map keeps
 * a plain background. */
(function () {
  "use strict";

  var container = document.getElementById("partner-map");
  if (!container || typeof L === "undefined" || !window.medexchangeBaseMap) {
    return;
  }
  document.documentElement.classList.add("js");

  var form = document.getElementById("map-filters");
  var list = document.getElementById("map-list");
  var count = document.getElementById("map-count");
  var search = document.getElementById("map-search");
  var kindLabels = JSON.parse(document.getElementById("map-kind-labels").textContent);
  var countryNames = JSON.parse(document.getElementById("map-country-names").textContent);

  var map = window.medexchangeBaseMap(container);

  var cluster = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
  map.addLayer(cluster);

  var entries = []; // {feature, marker, item}
  var bySlug = {};

  function popupContent(feature) {
    var p = feature.properties;
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = p.name;
    var meta = document.createElement("p");
    meta.textContent = (kindLabels[p.kind] || p.kind) + " · " + p.city;
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = container.dataset.openLabel;
    box.appendChild(title);
    box.appendChild(meta);
    box.appendChild(link);
    return box;
  }

  function checkedValues(name) {
    var values = {};
    form.querySelectorAll('input[name="' + name + '"]:checked').forEach(function (box) {
      values[box.value] = true;
    });
    return values;
  }

  function matches(entry, networks, kinds, text) {
    var p = entry.feature.properties;
    if (!kinds[p.kind]) {
      return false;
    }
    if (!p.networks.some(function (slug) { return networks[slug]; })) {
      return false;
    }
    if (text && (p.name + " " + p.city).toLowerCase().indexOf(text) === -1) {
      return false;
    }
    return true;
  }

  function applyFilters() {
    var networks = checkedValues("network");
    var kinds = checkedValues("kind");
    var text = search.value.trim().toLowerCase();
    var visible = [];
    entries.forEach(function (entry) {
      var show = matches(entry, networks, kinds, text);
      entry.item.hidden = !show;
      if (show) {
        visible.push(entry.marker);
      }
    });
    cluster.clearLayers();
    cluster.addLayers(visible);
    container.dataset.visibleMarkers = String(visible.length);
    count.textContent = container.dataset.countTemplate.replace("__count__", String(visible.length));
    var query = new URLSearchParams(new FormData(form)).toString();
    history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  }

  // Start with every shown institution in view, however narrow the screen.
  function fitToVisible() {
    var points = [];
    entries.forEach(function (entry) {
      if (!entry.item.hidden) {
        points.push(entry.marker.getLatLng());
      }
    });
    if (points.length) {
      map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 6, animate: false });
    }
  }

  function showOnMap(entry) {
    cluster.zoomToShowLayer(entry.marker, function () {
      entry.marker.openPopup();
    });
  }

  function build(collection) {
    var fragment = document.createDocumentFragment();
    collection.features.forEach(function (feature) {
      var coords = feature.geometry.coordinates;
      var marker = L.marker([coords[1], coords[0]], { title: feature.properties.name });
      marker.bindPopup(function () { return popupContent(feature); });
      var item = document.createElement("li");
      item.dataset.slug = feature.id;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = feature.properties.name;
      var where = document.createElement("span");
      where.className = "muted";
      where.textContent = " " + feature.properties.city + ", " +
        (countryNames[feature.properties.country] || feature.properties.country);
      item.appendChild(button);
      item.appendChild(where);
      fragment.appendChild(item);
      var entry = { feature: feature, marker: marker, item: item };
      button.addEventListener("click", function () { showOnMap(entry); });
      entries.push(entry);
      bySlug[feature.id] = entry;
    });
    list.appendChild(fragment);
    applyFilters();
    var wanted = bySlug[decodeURIComponent(window.location.hash.slice(1))];
    if (wanted && !wanted.item.hidden) {
      showOnMap(wanted);
    } else {
      fitToVisible();
    }
    container.dataset.ready = "true";
  }

  form.addEventListener("change", applyFilters);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    applyFilters();
  });
  search.addEventListener("input", applyFilters);

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
})();
