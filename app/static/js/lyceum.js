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

  // The player saves where a video was left: every 5 s of playback, through an htmx-posted
  // form (hx-trigger="lyceum:position"); it starts from the saved position.
  document.addEventListener("DOMContentLoaded", bindVideos);
  document.addEventListener("htmx:afterSettle", bindVideos);
  function bindVideos() {
    var form = document.querySelector("form[data-video-position]");
    var video = document.querySelector("video.lesson-video");
    if (!form || !video || video.dataset.bound) return;
    video.dataset.bound = "1";
    var start = parseFloat(form.dataset.start || "0");
    var last = 0;
    video.addEventListener("loadedmetadata", function () {
      if (start > 0 && start < video.duration) video.currentTime = start;
    });
    video.addEventListener("timeupdate", function () {
      var now = Date.now();
      if (now - last < 5000 || !window.htmx) return;
      last = now;
      form.querySelector("input[name=position]").value = Math.floor(video.currentTime);
      window.htmx.trigger(form, "lyceum:position");
    });
  }
})();
