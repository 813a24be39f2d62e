// Lyceum's own JavaScript: two small behaviours htmx attributes cannot express under
// our CSP (no inline handlers, no eval). Everything works without it.
(function () {
  "use strict";

  // Escape inside an inline-edit form clicks its Cancel link (restores the value).
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest("form[data-escape-cancels]");
    var cancel = form && form.querySelector(".cancel");
    if (cancel) cancel.click();
  });

  // Upload progress: htmx fires htmx:xhr:progress on the form that is uploading.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload-progress]");
    if (!form || !event.detail.lengthComputable) return;
    var bar = form.querySelector("progress");
    if (!bar) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    bar.textContent = bar.value + "%";
  });
})();
