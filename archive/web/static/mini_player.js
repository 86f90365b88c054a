// The meeting page's mini-player: a bar that stays at the top of the window while the transcript scrolls, with
// play/pause, previous and next line, the current speaker and time, and the speed (0.75–2×). Keys, anywhere on the
// page but in a form field: space plays or pauses, j or → goes to the next line, k or ← to the previous one,
// > and < change the speed. Every control is a real button or select, so it all works without a mouse; without
// JavaScript the bar stays hidden and the recording's own controls remain.
(function () {
  "use strict";
  var bar = document.getElementById("mini-player");
  var media = document.querySelector("audio[data-player], video[data-player]");
  var lines = Array.prototype.slice.call(document.querySelectorAll(".segment[data-start]"));
  if (!bar || !media) return;

  var play = document.getElementById("mp-play");
  var previous = document.getElementById("mp-previous");
  var next = document.getElementById("mp-next");
  var speaker = document.getElementById("mp-speaker");
  var clock = document.getElementById("mp-time");
  var speed = document.getElementById("mp-speed");
  var said = document.getElementById("mp-status");
  var SPEEDS = Array.prototype.map.call(speed.options, function (option) { return parseFloat(option.value); });
  var playWord = play.textContent;  // the page's words, in its language: the button's own, and the bar's data-*

  // A sentence from the bar's data-* with its {names} filled in ("Line {line} of {lines}, …").
  function fill(sentence, values) {
    return sentence.replace(/\{(\w+)\}/g, function (whole, name) { return name in values ? values[name] : whole; });
  }

  function format(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = s % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (rest < 10 ? "0" : "") + rest;
  }

  // The line being spoken: the last that starts at or before the time (the first one before any starts).
  function indexAt(time) {
    var found = -1;
    for (var i = 0; i < lines.length; i++) {
      if (parseFloat(lines[i].dataset.start) <= time + 0.01) found = i; else break;
    }
    return found;
  }

  function speakerOf(line) {
    var turn = line && line.closest(".turn");
    var name = turn && turn.querySelector(".speaker");
    return name ? name.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function show() {
    var index = indexAt(media.currentTime);
    speaker.textContent = index >= 0 ? speakerOf(lines[index]) : "";
    clock.textContent = format(media.currentTime) + (isFinite(media.duration) ? " / " + format(media.duration) : "");
    play.textContent = media.paused ? playWord : bar.dataset.pause;
    previous.disabled = index <= 0;
    next.disabled = index >= lines.length - 1;
  }

  function toggle() {
    if (media.paused) {
      var started = media.play();
      if (started && started.catch) started.catch(function () {});  // a browser may refuse without a gesture
    } else {
      media.pause();
    }
  }

  function go(step) {
    if (!lines.length) return;
    var index = Math.min(lines.length - 1, Math.max(0, indexAt(media.currentTime) + step));
    var line = lines[index];
    media.currentTime = parseFloat(line.dataset.start);
    show();
    // Said once, politely, on a move the reader asked for (not on every tick of playback).
    said.textContent = fill(bar.dataset.line, {
      line: index + 1, lines: lines.length, speaker: speakerOf(line) || bar.dataset.speaker,
      time: format(parseFloat(line.dataset.start))
    });
  }

  function setSpeed(rate) {
    media.defaultPlaybackRate = rate;  // kept if the recording is loaded again
    media.playbackRate = rate;
    speed.value = String(rate);
    try { window.localStorage.setItem("playback-rate", String(rate)); } catch (e) { /* private mode */ }
  }

  function changeSpeed(step) {
    var at = SPEEDS.indexOf(media.playbackRate);
    if (at < 0) at = SPEEDS.indexOf(1);
    var rate = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, at + step))];
    setSpeed(rate);
    said.textContent = fill(bar.dataset.speed, { rate: rate });
  }

  play.addEventListener("click", toggle);
  previous.addEventListener("click", function () { go(-1); });
  next.addEventListener("click", function () { go(1); });
  speed.addEventListener("change", function () { setSpeed(parseFloat(speed.value)); });
  ["play", "pause", "timeupdate", "seeked", "loadedmetadata", "durationchange"].forEach(function (type) {
    media.addEventListener(type, show);
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    // Typing stays typing; a focused button or link keeps its own space and Enter; the media keeps its keys.
    if (target.closest && target.closest("input, textarea, select, [contenteditable], audio, video")) return;
    var key = event.key;
    if (key === " " || key === "Spacebar") {
      if (target.closest && target.closest("button, a, summary")) return;
      event.preventDefault();  // not a page scroll
      toggle();
    } else if (key === "j" || key === "ArrowRight") {
      event.preventDefault();
      go(1);
    } else if (key === "k" || key === "ArrowLeft") {
      event.preventDefault();
      go(-1);
    } else if (key === ">") {
      changeSpeed(1);
    } else if (key === "<") {
      changeSpeed(-1);
    }
  });

  var stored = null;
  try { stored = parseFloat(window.localStorage.getItem("playback-rate")); } catch (e) { stored = null; }
  if (stored && SPEEDS.indexOf(stored) >= 0) setSpeed(stored);
  bar.hidden = false;
  show();
})();
