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

// Live analytics (issue 17): the stream's `analytics` event (this creator's figures, or for a
// finance admin the platform's, changed; layouts/base.html's `hx-trigger="sse:analytics"`
// turns it into a DOM event) re-reads every [data-live-figures] block with its own hx-get:
// at once, then at most once per 2 s while changes keep coming, and always once after the
// last one, so a burst of sales costs one or two requests and never leaves a figure stale.
// A reopened stream re-reads them too (nothing was heard while it was down). The swap keeps
// open <details> open and the focus where it was, and the block's polite status line says
// "Figures updated at …". Without JavaScript the page simply stays as it was loaded.
(function () {
  "use strict";
  var WINDOW_MS = 2000;
  var waiting = false;
  var pending = false;
  var opened = false;

  function refresh() {
    if (!window.htmx) return;
    document.querySelectorAll("[data-live-figures]").forEach(function (box) {
      window.htmx.trigger(box, "lyceum:figures-changed");
    });
  }

  function changed() {
    if (waiting) { pending = true; return; }
    refresh();
    waiting = true;
    window.setTimeout(function tick() {
      if (!pending) { waiting = false; return; }
      pending = false;
      refresh();
      window.setTimeout(tick, WINDOW_MS);
    }, WINDOW_MS);
  }

  document.addEventListener("sse:analytics", changed);
  document.addEventListener("htmx:sseOpen", function (event) {
    if (event.target.id !== "toasts") return;
    if (opened) changed();
    opened = true;
  });

  function focusables(box) {
    return Array.prototype.slice.call(box.querySelectorAll(
      "a[href], button, input, select, textarea, summary, [tabindex]"));
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = event.detail.target;
    if (!box || !box.matches || !box.matches("[data-live-figures]")) return;
    box.lyceumLive = {
      open: Array.prototype.map.call(box.querySelectorAll("details"), function (d) { return d.open; }),
      focus: focusables(box).indexOf(document.activeElement)
    };
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = event.detail.target;
    var state = box && box.lyceumLive;
    if (!state) return;
    delete box.lyceumLive;
    box.querySelectorAll("details").forEach(function (d, i) {
      if (i < state.open.length) d.open = state.open[i];
    });
    var again = state.focus >= 0 && focusables(box)[state.focus];
    if (again) again.focus({ preventScroll: true });
    var status = document.getElementById(box.getAttribute("data-live-status") || "");
    var ok = event.detail.xhr && event.detail.xhr.status < 300;
    if (status && ok) {
      status.textContent = "Figures updated at " +
        new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) + ".";
    }
  });
})();
