// The campaign form's excerpt picker: "Add to the campaign" puts the excerpt's slug in the Excerpts field
// (the first is the letter's quote). Without JavaScript the slugs are shown to copy, and a new campaign can
// start from any of them.
(function () {
  "use strict";
  var field = document.getElementById("excerpts");
  if (!field) return;
  document.querySelectorAll("[data-add-excerpt]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var slug = button.getAttribute("data-add-excerpt");
      var slugs = field.value.split(/[\s,]+/).filter(Boolean);
      if (slugs.indexOf(slug) === -1) slugs.push(slug);
      field.value = slugs.join(" ");
      button.textContent = "Added";
      button.disabled = true;
    });
  });
})();
