// idwatch console: the few behaviours htmx does not cover. No inline handlers (the CSP forbids
// them); everything hangs off events.
"use strict";
document.addEventListener("htmx:afterSwap", function (e) {
  // Once an integration is added, clear the form so its secrets do not stay on the page.
  var target = e.detail && e.detail.target;
  if (target && target.id === "verify" && target.querySelector(".okbox")) {
    var form = document.querySelector("form.addform");
    if (form) { form.reset(); }
  }
});
