// A link to a line (a search hit, a speaker's statement: ?t=<second>#s<id>) lands on it: the browser scrolls to
// the #fragment itself; with ?t= alone the server marks the line it picked (.landing) and this scrolls to it.
// Either way the line is highlighted (site.css: .segment:target, .segment.landing) and focused for the keyboard.
(function () {
  "use strict";
  var byHash = window.location.hash.length > 1 ? document.getElementById(window.location.hash.slice(1)) : null;
  var line = byHash && byHash.classList.contains("segment") ? byHash : document.querySelector(".segment.landing");
  if (!line) return;
  if (line !== byHash) {
    var smooth = !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
    line.scrollIntoView({ block: "center", behavior: smooth ? "smooth" : "auto" });
  }
  line.classList.add("landing");
  if (!line.hasAttribute("tabindex")) line.setAttribute("tabindex", "-1");
  line.focus({ preventScroll: true });
})();
