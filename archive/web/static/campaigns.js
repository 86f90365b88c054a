// The letter form, progressively: the supporter's name and town, once typed, take the place of
// {supporter_name} and {town} in the suggested letter, so it reads as it will be sent; and a second tap on
// "Send my letter" while the first is on its way says so (the server makes one letter either way).
// Without JavaScript the server fills the same placeholders when the letter is written.
(function () {
  "use strict";
  var form = document.querySelector("form.letter");
  if (!form) return;
  var body = form.querySelector("[name=body]");

  function follow(field, marker) {
    var inserted = null;
    field.addEventListener("change", function () {
      var value = field.value.trim();
      if (!value) return;
      var text = body.value;
      if (text.indexOf(marker) !== -1) {
        body.value = text.split(marker).join(value);
      } else if (inserted && text.lastIndexOf(inserted) !== -1) {
        var at = text.lastIndexOf(inserted);
        body.value = text.slice(0, at) + value + text.slice(at + inserted.length);
      } else {
        return;
      }
      inserted = value;
    });
  }

  follow(form.querySelector("[name=name]"), "{supporter_name}");
  follow(form.querySelector("[name=town]"), "{town}");

  form.addEventListener("submit", function () {
    var submit = form.querySelector("[type=submit]");
    window.setTimeout(function () { submit.disabled = true; submit.textContent = "Sending…"; }, 0);
  });
})();
