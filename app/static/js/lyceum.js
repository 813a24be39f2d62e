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

  // Live notification toasts: the close button dismisses one; one that has faded away
  // (a CSS animation) leaves the page. Focus moves back to the page, never into a toast.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-toast-close]");
    if (!button) return;
    var toast = button.closest("[data-toast]");
    if (toast && toast.contains(document.activeElement)) document.getElementById("main").focus({ preventScroll: true });
    if (toast) toast.remove();
  });
  document.addEventListener("animationend", function (event) {
    if (event.target.matches && event.target.matches("[data-toast]")) event.target.remove();
  });

  // The sse extension reopens a failed stream with its `sse-connect` URL: keep that URL's
  // `after=` at the newest notification shown, so a reopened stream repeats none.
  document.addEventListener("htmx:sseMessage", function (event) {
    var region = event.target.closest && event.target.closest("[sse-connect][data-resume-after]");
    var id = event.detail && event.detail.lastEventId;
    if (!region || !/^[0-9]+$/.test(id || "")) return;
    region.setAttribute("sse-connect", region.getAttribute("sse-connect").replace(/([?&]after=)[0-9]+/, "$1" + id));
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

// Direct messages: a message this tab already shows (it sent it, or the stream brought it
// first) is not added twice — once from the stream, once from the send form's response.
(function () {
  "use strict";
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    var log = event.target;
    var id = event.detail && event.detail.lastEventId;
    if (id && log.matches && log.matches("[data-dm-log]") && document.getElementById("dm-" + id)) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var first = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (first && /^dm-\d+$/.test(first.id) && document.getElementById(first.id)) {
      event.detail.shouldSwap = false;
    }
  });
})();

// Course chat rooms (chat/room.html, htmx's ws extension): every (re)connect asks for the
// messages after the last one on the page; a dropped socket shows "Reconnecting…"; the
// textarea is cleared once the server confirms a message was stored (data-sent).
(function () {
  "use strict";
  if (!window.htmx) return;

  function lastMessageId() {
    var items = document.querySelectorAll("#chat-log > li[data-id]");
    return items.length ? items[items.length - 1].getAttribute("data-id") : "0";
  }

  window.htmx.createWebSocket = function (url) {
    if (url.indexOf("/ws/chat/") !== -1) {
      url = url.replace(/([?&])after=[^&]*/, "$1after=" + lastMessageId());
    }
    return new WebSocket(url, []);
  };

  function setStatus(room, live) {
    if (!room || !room.matches("[data-chat-room]")) return;
    var status = room.querySelector(".chat-status");
    room.classList.toggle("reconnecting", !live);
    if (status) status.textContent = live ? status.dataset.connectedText : status.dataset.reconnectingText;
  }

  document.addEventListener("htmx:wsOpen", function (event) { setStatus(event.target, true); });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event && event.detail.event.code;
    setStatus(event.target, false);
    if (code === 1008) {  // no longer allowed in (refund, ban, suspension): no reconnect
      var status = event.target.querySelector(".chat-status");
      if (status) status.textContent = event.detail.event.reason || "Disconnected.";
    }
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    var slot = document.querySelector("#chat-error[data-sent]");
    if (!slot) return;
    slot.removeAttribute("data-sent");
    var box = document.getElementById("chat-body");
    if (box) box.value = "";
    var log = document.getElementById("chat-log");
    if (log) log.scrollTop = log.scrollHeight;
  });
})();
