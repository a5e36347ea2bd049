// Typesets LaTeX in every .cbt-math element with the locally served KaTeX auto-render.
(function () {
  "use strict";
  var OPTIONS = {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false }
    ],
    throwOnError: false
  };
  function typeset(root) {
    if (typeof window.renderMathInElement !== "function") { return; }
    var nodes = (root || document).querySelectorAll(".cbt-math");
    for (var i = 0; i < nodes.length; i++) { window.renderMathInElement(nodes[i], OPTIONS); }
  }
  window.ruangTypeset = typeset;
  document.addEventListener("DOMContentLoaded", function () { typeset(document); });
})();
