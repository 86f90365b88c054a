// The meeting page's transcript follows the recording: the line being spoken is marked (aria-current) and
// scrolled into view unless the reader is scrolling or prefers reduced motion; a click on a line or its
// timestamp seeks there. Without JavaScript the page still reads, and timestamp links reload at ?t=.
(function () {
  "use strict";
  var media = document.querySelector("audio[data-player], video[data-player]");
  var lines = Array.prototype.slice.call(document.querySelectorAll(".segment[data-start]"));
  if (!media || !lines.length) return;

  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var lastUserScroll = 0;
  var current = null;
  ["wheel", "touchmove", "keydown"].forEach(function (type) {
    window.addEventListener(type, function () { lastUserScroll = Date.now(); }, { passive: true });
  });

  function lineAt(time) {
    var found = null;
    for (var i = 0; i < lines.length; i++) {
      if (parseFloat(lines[i].dataset.start) <= time) found = lines[i]; else break;
    }
    return found && time <= parseFloat(found.dataset.end) + 1 ? found : null;
  }

  function follow() {
    var line = lineAt(media.currentTime);
    if (line === current) return;
    if (current) current.removeAttribute("aria-current");
    current = line;
    if (!line) return;
    line.setAttribute("aria-current", "true");
    // Do not fight the reader: follow only when they have not scrolled for a few seconds.
    if (!reduceMotion && Date.now() - lastUserScroll > 4000) line.scrollIntoView({ block: "nearest" });
  }

  function seek(seconds) {
    media.currentTime = seconds;
    follow();
    var playing = media.play();
    if (playing && playing.catch) playing.catch(function () {});  // a browser may refuse autoplay
  }

  media.addEventListener("timeupdate", follow);
  media.addEventListener("seeked", follow);
  lines.forEach(function (line) {
    line.addEventListener("click", function (event) {
      if (event.target.closest("a") && (event.ctrlKey || event.metaKey || event.shiftKey)) return;  // new tab
      // While lines are being chosen for an excerpt (excerpt.js), a click chooses instead of seeking.
      if (event.target.closest("input, button, label") || document.body.classList.contains("choosing")) return;
      event.preventDefault();
      seek(parseFloat(line.dataset.start));
    });
  });

  var start = parseFloat(media.dataset.start || "0");
  if (start > 0) {
    var jump = function () { if (media.currentTime < start - 0.5) media.currentTime = start; follow(); };
    if (media.readyState >= 1) jump(); else media.addEventListener("loadedmetadata", jump, { once: true });
  }
})();
