// Curators correct the meeting page in place: an Edit button on every line opens a small form (loaded from
// /admin/segments/<id>.json, never from the public page) that posts the correction and updates the line.
(function () {
  "use strict";
  var tools = document.getElementById("curation-tools");
  if (!tools) return;
  var base = tools.getAttribute("data-segment-url").replace(/\/0$/, "/");
  var csrf = tools.getAttribute("data-csrf");

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function field(form, id, label, control) {
    var box = el("div", { class: "field" });
    control.id = id;
    box.appendChild(el("label", { for: id }, label));
    box.appendChild(control);
    form.appendChild(box);
    return control;
  }

  function select(name, options, chosen) {
    var control = el("select", { name: name });
    options.forEach(function (option) {
      var node = el("option", { value: option[0] }, option[1]);
      if (String(option[0]) === String(chosen)) node.selected = true;
      control.appendChild(node);
    });
    return control;
  }

  function button(value, words, kind) {
    return el("button", { type: kind || "submit", name: "action", value: value }, words);
  }

  function build(line, data) {
    var segment = data.segment, id = segment.id;
    var form = el("form", { class: "curation-form account", method: "post", action: base + id });
    form.appendChild(el("input", { type: "hidden", name: "csrf_token", value: csrf }));
    var error = el("p", { class: "error", role: "alert" });
    error.hidden = true;
    form.appendChild(error);
    var text = field(form, "edit-text-" + id, "Words", el("textarea", { name: "text", rows: "3", maxlength: "5000" }));
    text.value = segment.text;
    var voices = data.speakers.map(function (s) { return [s.id, s.name]; });
    if (segment.speaker_id === null) voices.unshift(["", "(none)"]);
    field(form, "edit-speaker-" + id, "Voice", select("speaker", voices, segment.speaker_id === null ? "" : segment.speaker_id));
    var kinds = [["", "(not said)"]].concat(data.kinds.map(function (k) { return [k, k]; }));
    field(form, "edit-kind-" + id, "Kind", select("kind", kinds, segment.kind || ""));
    var tags = field(form, "edit-tags-" + id, "Tags (comma-separated, e.g. hot-mic)", el("input", { name: "tags" }));
    tags.value = segment.tags.join(", ");
    var actions = el("p", { class: "actions" });
    actions.appendChild(button("save", "Save"));
    var cancel = button("cancel", "Cancel", "button");
    cancel.addEventListener("click", function () { close(line); });
    actions.appendChild(cancel);
    form.appendChild(actions);
    if (segment.words.length > 1) {
      var words = segment.words.slice(1).map(function (w, i) { return [i + 1, "“" + w.word + "” (word " + (i + 2) + ")"]; });
      field(form, "edit-split-" + id, "Split: the second line starts with", select("at_word", words, 1));
      form.appendChild(button("split", "Split the line"));
    }
    if (data.next_id !== null) {
      var whose = [["", "(refuse if the voices differ)"]].concat(data.speakers.map(function (s) { return [s.id, s.name]; }));
      field(form, "edit-merge-" + id, "Merge with the next line; if its voice differs, the joined line is", select("merge_speaker", whose, ""));
      form.appendChild(button("merge", "Merge with the next line"));
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new FormData(form);
      var action = event.submitter ? event.submitter.value : "save";
      body.set("action", action);
      // Not form.action: the buttons named "action" shadow that property.
      fetch(base + id, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json().then(function (answer) { return [response.ok, answer]; }); })
        .then(function (result) {
          var answer = result[1];
          if (!result[0]) {
            error.textContent = answer.error || "The correction could not be saved.";
            error.hidden = false;
            return;
          }
          var moved = String(answer.segment.speaker_id) !== String(segment.speaker_id);
          if (answer.reload || moved) {  // several lines, or a turn's heading, changed: show the page afresh
            window.location.href = answer.url;
            window.location.reload();
            return;
          }
          show(line, answer.segment.text);
          close(line);
        })
        .catch(function () {
          error.textContent = "The correction could not be sent: check the connection and try again.";
          error.hidden = false;
        });
    });
    return form;
  }

  // The corrected words replace the line's text (the time link and the Edit button stay).
  function show(line, text) {
    Array.prototype.slice.call(line.childNodes).forEach(function (node) {
      if (!(node.nodeType === 1 && (node.matches("a.time") || node.matches("button.curate")))) line.removeChild(node);
    });
    var edit = line.querySelector("button.curate");
    line.insertBefore(document.createTextNode(" " + text + " "), edit);
    line.insertBefore(el("span", { class: "corrected", title: "Corrected by a curator" }, "corrected"), edit);
  }

  function close(line) {
    var open = line.nextElementSibling;
    if (open && open.classList.contains("curation-form")) open.parentNode.removeChild(open);
    line.querySelector("button.curate").setAttribute("aria-expanded", "false");
  }

  function edit(line, id, trigger) {
    var open = line.nextElementSibling;
    if (open && open.classList.contains("curation-form")) { close(line); return; }
    fetch(base + id + ".json", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var form = build(line, data);
        line.parentNode.insertBefore(form, line.nextSibling);
        trigger.setAttribute("aria-expanded", "true");
        form.querySelector("textarea").focus();
      });
  }

  document.querySelectorAll("p.segment[id^='s']").forEach(function (line) {
    var id = line.id.slice(1);
    var time = line.querySelector("a.time");
    var trigger = el("button", { type: "button", class: "curate", "aria-expanded": "false" }, "Edit");
    trigger.setAttribute("aria-label", "Edit the line at " + (time ? time.textContent : id));
    trigger.addEventListener("click", function (event) { event.stopPropagation(); edit(line, id, trigger); });
    line.appendChild(trigger);
  });
})();
