// The item editor: shows the fields of the chosen type, keeps a live preview of the item
// as the candidate will see it (rendered by the server, typeset with KaTeX) and uploads
// images into the bank.
(function () {
  "use strict";
  var form = document.getElementById("item-form");
  if (!form) { return; }
  var typeSelect = document.getElementById("item-type");
  var preview = document.getElementById("preview");
  var previewKey = document.getElementById("preview-key");
  var previewErrors = document.getElementById("preview-errors");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var timer = null;

  function showFields() {
    var type = typeSelect.value;
    var sets = form.querySelectorAll("fieldset[data-types]");
    for (var i = 0; i < sets.length; i++) {
      var types = sets[i].getAttribute("data-types").split(" ");
      sets[i].hidden = types.indexOf(type) < 0;
    }
  }

  function fields() {
    var data = {};
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.name || el.name === "csrf_token" || el.type === "file") { continue; }
      if (el.type === "checkbox") {
        if (el.name === "correct") {
          data.correct = data.correct || [];
          if (el.checked) { data.correct.push(el.value); }
        } else {
          data[el.name] = el.checked;
        }
      } else {
        data[el.name] = el.value;
      }
    }
    return data;
  }

  function render() {
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(fields())
    }).then(function (resp) { return resp.json(); }).then(function (body) {
      preview.innerHTML = body.html || "";
      previewKey.innerHTML = body.key_html || "";
      previewErrors.textContent = "";
      (body.errors || []).forEach(function (msg) {
        var li = document.createElement("li");
        li.textContent = msg;
        previewErrors.appendChild(li);
      });
      if (window.ruangTypeset) { window.ruangTypeset(preview); window.ruangTypeset(previewKey); }
    }).catch(function () { previewErrors.textContent = "…"; });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(render, 300);
  }

  var upload = document.getElementById("image-upload");
  if (upload) {
    upload.addEventListener("change", function () {
      if (!upload.files.length) { return; }
      var body = new FormData();
      body.append("file", upload.files[0]);
      fetch(form.getAttribute("data-upload"), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf }, body: body
      }).then(function (resp) { return resp.json(); }).then(function (result) {
        if (!result.ok) { previewErrors.textContent = result.error || ""; return; }
        var stem = document.getElementById("stem");
        var tag = '<img src="' + result.src + '" alt="">';
        var at = stem.selectionStart || stem.value.length;
        stem.value = stem.value.slice(0, at) + tag + stem.value.slice(at);
        upload.value = "";
        schedule();
      });
    });
  }

  typeSelect.addEventListener("change", function () { showFields(); schedule(); });
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  showFields();
  render();
})();
