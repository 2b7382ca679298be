// referral's one script: warns before the session ends. Pages work without it.
(function () {
  "use strict";
  var expiry = document.getElementById("session-expiry");
  var warning = document.getElementById("session-warning");
  if (!expiry || !warning) { return; }
  var endsAt = Date.now() + Number(expiry.getAttribute("data-seconds-left")) * 1000;
  var shown = "";
  function check() {
    var left = (endsAt - Date.now()) / 1000;
    var state = left <= 0 ? "ended" : (left <= 120 ? "soon" : "");
    if (state && state !== shown) {
      warning.textContent = warning.getAttribute("data-" + state);
      warning.hidden = false;
      shown = state;
    }
  }
  check();
  window.setInterval(check, 15000);
})();
