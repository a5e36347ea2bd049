/* The candidate's paper: decrypted with WebCrypto, drawn item by item.
 *
 * The envelope comes from the server before the start (AES-256-GCM, the attempt's
 * associated data); the key arrives over the socket when the exam starts. The plaintext
 * stays in memory only. Items are drawn with the class names of the staff preview
 * (static/cbt/item.css), so what staff preview is what candidates get. Options are
 * numbered in the order shown (0, 1, ...): those numbers are the answers sent.
 */
(function () {
  "use strict";

  function bytes(b64) {
    var bin = window.atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function decrypt(envelope, keyB64, attemptId) {
    if (!window.crypto || !window.crypto.subtle) {
      return Promise.reject(new Error("WebCrypto is not available (not a secure context)"));
    }
    var expected = "ruang-paper/v1/" + attemptId;
    if (!envelope || envelope.v !== 1 || envelope.aad !== expected) {
      return Promise.reject(new Error("this paper is not for this attempt"));
    }
    return window.crypto.subtle.importKey("raw", bytes(keyB64), { name: "AES-GCM" }, false, ["decrypt"])
      .then(function (key) {
        return window.crypto.subtle.decrypt({
          name: "AES-GCM", iv: bytes(envelope.iv), tagLength: 128,
          additionalData: new TextEncoder().encode(envelope.aad)
        }, key, bytes(envelope.data));
      })
      .then(function (plain) {
        var paper = JSON.parse(new TextDecoder().decode(plain));
        if (paper.attempt !== attemptId) { throw new Error("this paper is not for this attempt"); }
        return paper;
      });
  }

  var LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  function el(tag, cls, html) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (html !== undefined) { node.innerHTML = html; }  // sanitised on the server
    return node;
  }

  function plain(html) {
    var div = document.createElement("div");
    div.innerHTML = html;
    return (div.textContent || "").trim();
  }

  function fmt(text, values) {
    return String(text).replace(/%\(([a-z_]+)\)s/g, function (m, name) {
      return values && values[name] !== undefined ? String(values[name]) : m;
    });
  }

  function words(text) {
    var t = (text || "").trim();
    return t ? t.split(/\s+/).length : 0;
  }

  /* Draw item ``item`` with the current answer ``value``; ``onChange(value, immediate)``
   * is called with the new answer (immediate false: text still being typed). */
  function render(item, value, texts, onChange) {
    var article = el("article", "cbt-item cbt-type-" + item.type + " kiosk-item");
    article.dataset.type = item.type;
    article.dataset.n = String(item.n);
    var stem = el("div", "cbt-stem cbt-math", item.stem);
    stem.dir = "auto";
    article.appendChild(stem);
    var name = "q" + item.n;

    if (item.type === "single" || item.type === "multiple") {
      var list = el("ol", "cbt-options");
      var chosen = item.type === "single" ? [value] : (Array.isArray(value) ? value : []);
      item.options.forEach(function (html, i) {
        var li = el("li", "cbt-option");
        var label = el("label");
        var input = document.createElement("input");
        input.type = item.type === "single" ? "radio" : "checkbox";
        input.name = name;
        input.value = String(i);
        input.checked = chosen.indexOf(i) >= 0;
        input.addEventListener("change", function () {
          if (item.type === "single") { onChange(i, true); return; }
          var picked = [];
          list.querySelectorAll("input").forEach(function (box) {
            if (box.checked) { picked.push(parseInt(box.value, 10)); }
          });
          onChange(picked, true);
        });
        label.appendChild(input);
        label.appendChild(el("span", "cbt-option-letter", (i < 26 ? LETTERS[i] : String(i + 1)) + "."));
        var text = el("span", "cbt-option-text cbt-math", html);
        text.dir = "auto";
        label.appendChild(text);
        li.appendChild(label);
        list.appendChild(li);
      });
      article.appendChild(list);
    } else if (item.type === "truefalse") {
      var tf = el("div", "cbt-options cbt-tf");
      [[true, texts["true"]], [false, texts["false"]]].forEach(function (pair) {
        var label = el("label", "cbt-option");
        var input = document.createElement("input");
        input.type = "radio";
        input.name = name;
        input.value = String(pair[0]);
        input.checked = value === pair[0];
        input.addEventListener("change", function () { onChange(pair[0], true); });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + pair[1]));
        tf.appendChild(label);
      });
      article.appendChild(tf);
    } else if (item.type === "short" || item.type === "numeric") {
      var line = document.createElement("input");
      line.type = "text";
      line.className = "cbt-answer-line";
      line.dir = "auto";
      line.maxLength = item.type === "short" ? 1000 : 100;
      line.placeholder = item.type === "short" ? texts.your_answer : texts.number_answer;
      if (item.type === "numeric") { line.inputMode = "decimal"; }
      line.value = typeof value === "string" ? value : "";
      line.addEventListener("input", function () { onChange(line.value, false); });
      line.addEventListener("change", function () { onChange(line.value, true); });
      article.appendChild(line);
    } else if (item.type === "essay") {
      var area = document.createElement("textarea");
      area.className = "cbt-essay";
      area.dir = "auto";
      area.rows = 10;
      area.maxLength = 50000;
      area.placeholder = texts.essay;
      area.value = typeof value === "string" ? value : "";
      var count = el("p", "cbt-hint essay-count");
      var showCount = function () {
        var n = words(area.value);
        var text = fmt(texts.words, { n: n });
        if (item.max_words) { text += " (" + fmt(texts.max_words, { n: item.max_words }) + ")"; }
        count.textContent = text;
        count.classList.toggle("over", !!item.max_words && n > item.max_words);
      };
      area.addEventListener("input", function () { showCount(); onChange(area.value, false); });
      area.addEventListener("change", function () { onChange(area.value, true); });
      showCount();
      article.appendChild(area);
      article.appendChild(count);
    } else if (item.type === "matching") {
      var table = el("table", "cbt-matching");
      var current = Array.isArray(value) ? value.slice() : item.prompts.map(function () { return null; });
      item.prompts.forEach(function (html, p) {
        var tr = document.createElement("tr");
        var td = el("td", "cbt-math", html);
        td.dir = "auto";
        tr.appendChild(td);
        var cell = document.createElement("td");
        var select = document.createElement("select");
        select.setAttribute("aria-label", plain(html));
        var none = document.createElement("option");
        none.value = "";
        none.textContent = texts.choose;
        select.appendChild(none);
        item.answers.forEach(function (ahtml, a) {
          var opt = document.createElement("option");
          opt.value = String(a);
          opt.textContent = plain(ahtml);
          opt.selected = current[p] === a;
          select.appendChild(opt);
        });
        select.addEventListener("change", function () {
          current[p] = select.value === "" ? null : parseInt(select.value, 10);
          onChange(current.slice(), true);
        });
        cell.appendChild(select);
        tr.appendChild(cell);
        table.appendChild(tr);
      });
      article.appendChild(table);
    }
    if (typeof window.ruangTypeset === "function") { window.ruangTypeset(article); }
    return article;
  }

  function answered(value) {
    if (value === null || value === undefined || value === "") { return false; }
    if (Array.isArray(value)) { return value.some(function (v) { return v !== null; }); }
    return true;
  }

  window.RuangPaper = { decrypt: decrypt, render: render, answered: answered, fmt: fmt };
}());
