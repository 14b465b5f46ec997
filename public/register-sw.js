// Registers the service worker and tells the app (window events and flags, read by
// app/src/pwa.rs) when the app shell is ready offline and when a new version is waiting.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  var container = navigator.serviceWorker;

  function announce(flag, eventName) {
    window[flag] = true;
    window.dispatchEvent(new Event(eventName));
  }
  function updateReady() {
    announce("__crisUpdateReady", "cris-update-ready");
  }

  var applying = false;
  window.addEventListener("cris-apply-update", function () {
    container.getRegistration().then(function (reg) {
      if (reg && reg.waiting) {
        applying = true;
        reg.waiting.postMessage({ type: "skip-waiting" });
      }
    });
  });
  // The first install also changes the controller; only reload when the user asked for it.
  container.addEventListener("controllerchange", function () {
    if (applying) {
      applying = false;
      window.location.reload();
    }
  });

  container
    .register("/sw.js", { scope: "/" })
    .then(function (reg) {
      if (reg.waiting && container.controller) updateReady();
      reg.addEventListener("updatefound", function () {
        var worker = reg.installing;
        if (!worker) return;
        worker.addEventListener("statechange", function () {
          if (worker.state === "installed" && container.controller) updateReady();
        });
      });
      // Look for a new version when the app comes back to the foreground, and hourly.
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "visible") reg.update().catch(function () {});
      });
      setInterval(function () {
        reg.update().catch(function () {});
      }, 60 * 60 * 1000);
    })
    .catch(function (err) {
      console.warn("service worker registration failed:", err && err.message);
    });

  function markOfflineReady() {
    if (container.controller) announce("__crisOfflineReady", "cris-offline-ready");
  }
  markOfflineReady();
  container.addEventListener("controllerchange", markOfflineReady);
})();
