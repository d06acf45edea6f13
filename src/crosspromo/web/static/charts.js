// Draws every chart of the page: a <script type="application/json" data-chart="ID"> holds a
// Vega-Lite spec, the element with id ID receives the drawing. Sections loaded by htmx carry
// the spec in a <template data-chart="ID"> instead, since htmx drops their script elements. No inline script and no eval:
// expressions run through the vendored vega-interpreter, so a strict CSP holds.
(function () {
  "use strict";
  function draw(root) {
    var specs = (root || document).querySelectorAll(
      'script[type="application/json"][data-chart], template[data-chart]'
    );
    specs.forEach(function (node) {
      var target = document.getElementById(node.getAttribute("data-chart"));
      if (!target || target.getAttribute("data-drawn") === "1" || !window.vegaEmbed) return;
      var spec;
      try {
        spec = JSON.parse(node.content ? node.content.textContent : node.textContent);
      } catch (err) {
        target.textContent = String(err);
        return;
      }
      target.setAttribute("data-drawn", "1");
      // No <style> injected by vega-embed or its tooltips: the CSP allows no inline style.
      var options = {
        actions: false, renderer: "canvas", ast: true, defaultStyle: false, tooltip: false,
      };
      if (window.vegaInterpreter) options.expr = window.vegaInterpreter.expressionInterpreter;
      window.vegaEmbed(target, spec, options).catch(function (err) {
        target.removeAttribute("data-drawn");
        target.textContent = String(err);
      });
    });
  }
  function start() {
    draw(document);
    // Sections that htmx (or anything else) adds later are drawn as they arrive.
    new MutationObserver(function () { draw(document); }).observe(document.body, {
      childList: true,
      subtree: true,
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
