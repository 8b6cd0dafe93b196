// Discussion threads: small htmx helpers (the forms work without JavaScript).
(function () {
  "use strict";
  if (window.commongroundDiscussion) { return; }
  window.commongroundDiscussion = true;

  // Refusals (validation, permission, rate limit) come back as an error fragment
  // aimed at the form's error area (HX-Retarget); let htmx swap it in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (form && form.classList && form.classList.contains("comment-form") &&
        (status === 400 || status === 403 || status === 429)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // After a successful post: clear the form and its errors, close a reply box and
  // move focus to the new comment.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.classList || !form.classList.contains("comment-form")) { return; }
    if (!event.detail.successful) { return; }
    form.reset();
    var errors = document.getElementById(form.id + "-errors");
    if (errors) { errors.textContent = ""; }
    var details = form.closest("details");
    if (details) { details.open = false; }
    var posted = document.querySelector(".comment.just-posted:last-of-type article");
    if (posted) {
      posted.setAttribute("tabindex", "-1");
      posted.focus();
    }
  });
})();
