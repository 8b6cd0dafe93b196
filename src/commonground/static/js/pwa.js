/* Registers the service worker (/sw.js) that keeps the static files and an offline
   page, so the platform can be installed on a phone's home screen. Feature-detected:
   without service workers (or JavaScript) every page works the same, online. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) {
    return;
  }
  var script = document.currentScript;
  var workerUrl = (script && script.dataset.worker) || "/sw.js";
  var scope = (script && script.dataset.scope) || "/";

  function register() {
    navigator.serviceWorker.register(workerUrl, { scope: scope }).catch(function (error) {
      // Not fatal: the site works without the worker (e.g. a private window).
      console.warn("Service worker not registered:", error);
    });
  }

  if (document.readyState === "complete") {
    register();
  } else {
    window.addEventListener("load", register);
  }
})();
