// The browser's time zone, as a first guess of the member's (members.TimeZoneMiddleware
// reads the "tz" cookie until the member chooses a zone on their profile). On the
// profile page it also preselects the guess in an unset time-zone select.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) {
    return;
  }
  var secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie =
    "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  document.addEventListener("DOMContentLoaded", function () {
    var selects = document.querySelectorAll("select[data-timezone-guess]");
    Array.prototype.forEach.call(selects, function (select) {
      if (select.value !== "") {
        return;
      }
      var option = select.querySelector('option[value="' + zone + '"]');
      if (option) {
        select.value = zone;
      }
    });
  });
})();
