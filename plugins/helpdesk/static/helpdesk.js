// Helpdesk pages: canned replies, file size checks before upload, one-click rating.
// Every page works without it (the server checks everything again).
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var el = event.target;
    // <select data-canned-target="id">: put the chosen canned reply into the textarea.
    var target = el.getAttribute && el.getAttribute("data-canned-target");
    if (target) {
      var option = el.options[el.selectedIndex];
      var area = document.getElementById(target);
      if (area && option && option.getAttribute("data-body")) {
        area.value = area.value ? area.value + "\n\n" + option.getAttribute("data-body")
                                : option.getAttribute("data-body");
        area.focus();
      }
      return;
    }
    // <input type=file data-max-bytes>: say at once when a file is too big.
    if (el.type === "file" && el.hasAttribute("data-max-bytes")) {
      var max = parseInt(el.getAttribute("data-max-bytes"), 10);
      var maxFiles = parseInt(el.getAttribute("data-max-files") || "0", 10);
      var box = el.parentNode.querySelector("[data-file-error]");
      var problems = [];
      if (maxFiles && el.files.length > maxFiles) {
        problems.push(el.files.length + " > " + maxFiles);
      }
      for (var i = 0; i < el.files.length; i++) {
        if (el.files[i].size > max) {
          problems.push(el.files[i].name + ": " + (el.files[i].size / 1048576).toFixed(1) +
                        " MB > " + (max / 1048576).toFixed(0) + " MB");
        }
      }
      if (box) {
        box.textContent = problems.join("; ");
        box.hidden = problems.length === 0;
      }
      el.setCustomValidity(problems.join("; "));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // The rating link of an e-mail: one click rates; the page only posts what it shows.
    var form = document.querySelector("form[data-submit-on-load]");
    if (form) {
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });
})();
