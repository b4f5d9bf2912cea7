// Ask before an irreversible action: a submit button, form or link with data-confirm="question"
// asks it with the browser's confirm dialog, and "Cancel" stops the action. Without JavaScript the
// action simply happens (the pages say what it does next to the button).
//
// The listeners run in the capture phase on the document, so they see the event before htmx's own
// listener on the form (hx-post forms): stopping it there means htmx never sends the request.
(function () {
  "use strict";

  function ask(question, event) {
    if (!question || window.confirm(question)) {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  // data-confirm-needs="<field name>": the server refuses the action while that field of the form
  // is empty (a rejection needs a comment), so asking "are you sure?" first would only lead to
  // that refusal: send it unasked and let the page say what is missing.
  function missing(form, submitter) {
    var name = submitter && submitter.getAttribute("data-confirm-needs");
    var field = name && form && form.elements ? form.elements[name] : null;
    return Boolean(field && typeof field.value === "string" && !field.value.trim());
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (missing(form, submitter)) {
      return;
    }
    var question = (submitter && submitter.getAttribute("data-confirm")) ||
      (form && form.getAttribute && form.getAttribute("data-confirm"));
    ask(question, event);
  }, true);

  // Links (and buttons outside forms) with data-confirm.
  document.addEventListener("click", function (event) {
    var element = event.target && event.target.closest ? event.target.closest("a[data-confirm]") : null;
    if (element) {
      ask(element.getAttribute("data-confirm"), event);
    }
  }, true);
})();
