// Small progressive enhancements for every page; each page works without them.
// (The Content-Security-Policy forbids inline scripts, so pages add behaviour with
// data attributes that this file reads.)
(function () {
  "use strict";

  // <form data-confirm="Are you sure?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // Avoid double submissions from an impatient double click.
    var button = event.submitter;
    if (button && !form.hasAttribute("data-allow-resubmit")) {
      window.setTimeout(function () { button.disabled = true; }, 0);
      window.setTimeout(function () { button.disabled = false; }, 4000);
    }
  });

  // <select data-autosubmit>: submit its form when the choice changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });

  // Keep the active menu entry visible in the horizontal menu on phones.
  document.addEventListener("DOMContentLoaded", function () {
    var active = document.querySelector(".sidenav .nav-link.active");
    if (active && active.scrollIntoView && window.matchMedia("(max-width: 960px)").matches) {
      active.scrollIntoView({ block: "nearest", inline: "center" });
    }
  });
})();
