// Onboarding pages (templates/onboarding/). Two things the server cannot do from where it stands:
// 1. A field checked on change by htmx gets a fresh error list; the field around it (red border,
//    aria-invalid) must follow that list, or a corrected field stays marked wrong.
// 2. A file over the per-file limit is refused here, before it is sent: sent, it could make the
//    whole request too large, and everything typed on the page would be lost with it. The refusal
//    holds the next Continue once, so an optional document is never skipped without the customer
//    seeing that their file was not taken.
(function () {
  "use strict";

  function setInvalid(input, invalid) {
    var field = input.closest(".field");
    if (field) field.classList.toggle("has-error", invalid);
    if (invalid) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function errorList(input) {
    return document.getElementById(input.id + "-errors");
  }

  // htmx fires afterSettle on the swapped-in error list (id "<field id>-errors").
  document.addEventListener("htmx:afterSettle", function (event) {
    var list = event.target;
    if (!list || !list.matches || !list.matches(".onboarding ul.errors[id$='-errors']")) return;
    var input = document.getElementById(list.id.slice(0, -"-errors".length));
    if (input) setInvalid(input, list.querySelector("li") !== null);
  });

  function tooLarge(input) {
    var limit = Number(input.dataset.maxBytes || 0);
    var file = input.files && input.files[0];
    return Boolean(limit && file && file.size > limit);
  }

  function showOnly(input, message) {
    var list = errorList(input);
    if (!list) return;
    list.replaceChildren();
    if (message) {
      var item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    }
    setInvalid(input, Boolean(message));
  }

  // A new choice replaces whatever was said about the previous one.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".onboarding input[type=file][data-max-bytes]")) return;
    if (tooLarge(input)) {
      showOnly(input, input.dataset.tooLarge);
      input.value = "";  // not sent with the form; the customer chooses again
      input.dataset.refused = "1";
    } else if (input.files && input.files.length) {
      showOnly(input, "");
      delete input.dataset.refused;
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest || !form.closest(".onboarding")) return;
    var first = null;
    form.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      if (tooLarge(input)) {
        showOnly(input, input.dataset.tooLarge);
        input.value = "";
        input.dataset.refused = "1";
        first = first || input;
      } else if (input.dataset.refused && !(input.files && input.files.length)) {
        // Said once: a second Continue goes on without this file (the server still asks for a
        // required one).
        showOnly(input, input.dataset.notKept);
        delete input.dataset.refused;
        first = first || input;
      }
    });
    if (first) {
      event.preventDefault();
      first.focus();
    }
  });
})();
