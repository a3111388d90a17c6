/* Location picker: click the map to fill the latitude and longitude fields.
 * Progressive: without JavaScript (or without map tiles) the fields are typed by hand. */
(function () {
  "use strict";

  var container = document.getElementById("location-picker");
  if (!container || !window.medexchangeBaseMap || !container.dataset.tileUrl) {
    return;
  }
  var latitude = document.getElementById(container.dataset.latitudeField);
  var longitude = document.getElementById(container.dataset.longitudeField);
  if (!latitude || !longitude) {
    return;
  }
  container.parentElement.hidden = false;

  var map = window.medexchangeBaseMap(container);

  var marker = null;

  function place(lat, lng, pan) {
    if (marker) {
      marker.setLatLng([lat, lng]);
    } else {
      marker = L.marker([lat, lng], { draggable: true }).addTo(map);
      marker.on("dragend", function () {
        var point = marker.getLatLng().wrap();
        fill(point.lat, point.lng);
      });
    }
    if (pan) {
      map.setView([lat, lng], Math.max(map.getZoom(), 12));
    }
  }

  function fill(lat, lng) {
    latitude.value = lat.toFixed(5);
    longitude.value = lng.toFixed(5);
    latitude.dispatchEvent(new Event("change", { bubbles: true }));
    longitude.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fromFields(pan) {
    var lat = parseFloat(latitude.value);
    var lng = parseFloat(longitude.value);
    if (isFinite(lat) && isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
      place(lat, lng, pan);
    }
  }

  map.on("click", function (event) {
    var point = event.latlng.wrap();
    fill(point.lat, point.lng);
    place(point.lat, point.lng, false);
  });
  latitude.addEventListener("input", function () { fromFields(true); });
  longitude.addEventListener("input", function () { fromFields(true); });
  fromFields(true);
  container.dataset.ready = "true";
})();
