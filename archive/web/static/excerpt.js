// Excerpts, progressively: on the meeting page, choosing transcript lines (or the player's time) fills the
// excerpt form's start and end; on an excerpt's page, copy buttons for the citations and the link, and the
// Web Share API where the device has it. Without JavaScript the form takes typed times and the citations are
// selectable text.
(function () {
  "use strict";

  function clock(seconds) {
    var s = Math.max(0, seconds);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = (s % 60).toFixed(1);
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (rest < 10 ? "0" : "") + rest;
  }

  // --- the meeting page: choose lines ------------------------------------------------------------------------
  var form = document.getElementById("excerpt-form");
  if (form) {
    var details = document.getElementById("make-excerpt");
    var startField = form.querySelector("[name=start]");
    var endField = form.querySelector("[name=end]");
    var preview = document.getElementById("selection-preview");
    var choose = document.getElementById("choose-lines");
    var bar = document.getElementById("selection-bar");
    var status = document.getElementById("selection-status");
    var media = document.querySelector("audio[data-player], video[data-player]");
    var lines = Array.prototype.slice.call(document.querySelectorAll(".segment[data-start]"));
    var selection = null;  // [first, last] line indexes, always a contiguous run
    var anchor = null;

    function words(line) {
      var clone = line.cloneNode(true);
      Array.prototype.forEach.call(clone.querySelectorAll(".time, .pick"), function (el) { el.remove(); });
      return clone.textContent.replace(/\s+/g, " ").trim();
    }

    function render() {
      lines.forEach(function (line, i) {
        var on = selection !== null && i >= selection[0] && i <= selection[1];
        line.classList.toggle("selected", on);
        var box = line.querySelector(".pick");
        if (box) box.checked = on;
      });
      if (selection === null) {
        bar.hidden = true;
        preview.textContent = "";
        document.body.classList.remove("has-selection");
        return;
      }
      var first = lines[selection[0]], last = lines[selection[1]];
      startField.value = clock(parseFloat(first.dataset.start));
      endField.value = clock(parseFloat(last.dataset.end));
      var count = selection[1] - selection[0] + 1;
      var text = count + (count === 1 ? " line" : " lines") + " chosen, " + startField.value + " to " + endField.value;
      status.textContent = text;
      var said = words(first) + (count > 1 ? " … " + words(last) : "");
      preview.textContent = "Chosen: “" + (said.length > 200 ? said.slice(0, 199) + "…" : said) + "”";
      bar.hidden = false;
      document.body.classList.add("has-selection");
    }

    function pick(index, extend) {
      if (extend && anchor !== null) {
        selection = [Math.min(anchor, index), Math.max(anchor, index)];
      } else if (selection !== null && index >= selection[0] && index <= selection[1]) {
        // Unchoosing a line shortens the run: from the start it moves the start, elsewhere it ends before it.
        if (index === selection[0]) selection = index === selection[1] ? null : [index + 1, selection[1]];
        else selection = [selection[0], index - 1];
      } else {
        selection = selection === null ? [index, index] : [Math.min(selection[0], index), Math.max(selection[1], index)];
        anchor = index;
      }
      render();
    }

    function addBoxes() {
      lines.forEach(function (line, i) {
        if (line.querySelector(".pick")) return;
        var box = document.createElement("input");
        box.type = "checkbox";
        box.className = "pick";
        box.dataset.index = String(i);
        var time = line.querySelector(".time");
        box.setAttribute("aria-label", "Choose the line at " + (time ? time.textContent.trim() : clock(parseFloat(line.dataset.start))));
        line.insertBefore(box, line.firstChild);
      });
    }

    function setChoosing(on) {
      document.body.classList.toggle("choosing", on);
      choose.setAttribute("aria-pressed", on ? "true" : "false");
      choose.textContent = on ? "Stop choosing lines" : "Choose lines in the transcript";
      if (on) addBoxes();
      Array.prototype.forEach.call(document.querySelectorAll(".segment .pick"), function (box) { box.hidden = !on; });
    }

    choose.hidden = false;
    choose.addEventListener("click", function () {
      var on = !document.body.classList.contains("choosing");
      setChoosing(on);
      if (on) {
        var firstBox = document.querySelector(".segment .pick");
        if (firstBox) firstBox.focus();
      }
    });

    // One listener for every line: a checkbox, or (while choosing) a click on the line's words.
    document.addEventListener("click", function (event) {
      if (!document.body.classList.contains("choosing")) return;
      var line = event.target.closest(".segment[data-start]");
      if (!line || (event.target.closest("a") && !event.target.classList.contains("pick"))) return;
      var box = line.querySelector(".pick");
      if (!box) return;
      if (event.target !== box) event.preventDefault();
      pick(parseInt(box.dataset.index, 10), event.shiftKey);
    });

    Array.prototype.forEach.call(form.querySelectorAll("[data-from-player]"), function (button) {
      if (!media) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = button.dataset.fromPlayer === "start" ? startField : endField;
        field.value = clock(media.currentTime);
        selection = null;
        render();
        field.focus();
      });
    });

    document.getElementById("selection-continue").addEventListener("click", function () {
      details.open = true;
      setChoosing(false);
      form.querySelector("[name=title]").focus();
    });
    document.getElementById("selection-clear").addEventListener("click", function () {
      selection = null;
      anchor = null;
      render();
    });
    details.addEventListener("toggle", function () {
      if (!details.open) setChoosing(false);
    });

    // A second press while the first is on its way would only be redirected to the same excerpt; say so once.
    form.addEventListener("submit", function () {
      var submit = form.querySelector("[type=submit]");
      window.setTimeout(function () { submit.disabled = true; submit.textContent = "Saving…"; }, 0);
    });
  }

  // --- the excerpt page: copy and share ------------------------------------------------------------------------
  function tell(button, message) {
    var note = button.parentNode.querySelector(".copied");
    if (note) note.textContent = message;
    window.setTimeout(function () { if (note) note.textContent = ""; }, 4000);
  }

  function copy(text, button, element) {
    function fallback() {
      // Older browsers and insecure origins: select the text and ask the browser to copy it.
      var range = document.createRange();
      var target = element || button;
      if (!element) {
        target = document.createElement("textarea");
        target.value = text;
        target.setAttribute("readonly", "");
        target.className = "offscreen";
        document.body.appendChild(target);
        target.select();
      } else {
        range.selectNodeContents(element);
        var selected = window.getSelection();
        selected.removeAllRanges();
        selected.addRange(range);
      }
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      if (!element) target.remove();
      tell(button, ok ? button.dataset.copied : button.dataset.copyFailed);  // the page's words
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { tell(button, button.dataset.copied); }, fallback);
    } else {
      fallback();
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var element = document.getElementById(button.dataset.copy);
    if (!element) return;
    button.hidden = false;
    button.addEventListener("click", function () { copy(element.textContent, button, element); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-text]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button.dataset.copyText, button, null); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-share]"), function (button) {
    if (!navigator.share) return;  // phones and some desktops; elsewhere the email and copy links remain
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.title, text: button.dataset.text, url: button.dataset.url })
        .catch(function () {});  // dismissed
    });
  });
})();
