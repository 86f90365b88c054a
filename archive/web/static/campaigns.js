// The letter form, progressively: the supporter's name and town take the place of "[your name]" and
// "[your town]" in the suggested letter as they type, so it reads as it will be sent; a refused
// letter's error takes the focus (and is read out); a letter sent sooner after the page loaded than the
// site's minimum time (autofill makes that easy for a person) waits out the rest instead of being refused;
// and a second tap on "Send my letter" while the first is on its way says so (the server makes one letter
// either way). Without JavaScript the server fills the same words when the letter is written.
(function () {
  "use strict";
  var loaded = Date.now();
  var error = document.getElementById("letter-error");
  if (error) {
    error.setAttribute("tabindex", "-1");
    error.focus();
    error.scrollIntoView({block: "center"});
  }
  var form = document.querySelector("form.letter");
  if (!form) return;
  var body = form.querySelector("[name=body]");

  // Until the supporter edits the letter itself, it is the draft with their name and town as typed so far
  // (or the stand-in words while a field is empty); after an edit, a stand-in still there is filled on change.
  var draft = body.value;
  var edited = false;
  var fields = [
    [form.querySelector("[name=name]"), form.getAttribute("data-name-marker")],
    [form.querySelector("[name=town]"), form.getAttribute("data-town-marker")]
  ];
  function fill(text) {
    fields.forEach(function (pair) {
      var value = pair[0].value.trim();
      if (value && pair[1]) text = text.split(pair[1]).join(value);
    });
    return text;
  }
  body.addEventListener("input", function () { edited = true; });
  fields.forEach(function (pair) {
    if (!pair[0] || !pair[1]) return;
    pair[0].addEventListener("input", function () { if (!edited) body.value = fill(draft); });
    pair[0].addEventListener("change", function () { body.value = fill(body.value); });
  });
  if (!edited) body.value = fill(draft);

  var sending = false;
  form.addEventListener("submit", function (event) {
    var submit = form.querySelector("[type=submit]");
    if (sending) { event.preventDefault(); return; }
    sending = true;
    window.setTimeout(function () { submit.disabled = true; submit.textContent = form.getAttribute("data-sending"); }, 0);  // in the page's language
    var wait = 1000 * Number(form.getAttribute("data-min-seconds") || 0) + 300 - (Date.now() - loaded);
    if (wait > 0) {
      event.preventDefault();
      window.setTimeout(function () { form.submit(); }, wait);
    }
  });
})();
