// Draws every chart of the page: a <script type="application/json" data-chart="ID"> holds a
// Vega-Lite spec, the element with id ID receives the drawing. No inline script and no eval:
// expressions run through the vendored vega-interpreter, so a strict CSP holds.
(function () {
  "use strict";
  function draw(root) {
    var specs = (root || document).querySelectorAll('script[type="application/json"][data-chart]');
    specs.forEach(function (node) {
      var target = document.getElementById(node.getAttribute("data-chart"));
      if (!target || target.getAttribute("data-drawn") === "1" || !window.vegaEmbed) return;
      var spec;
      try {
        spec = JSON.parse(node.textContent);
      } catch (err) {
        target.textContent = String(err);
        return;
      }
      target.setAttribute("data-drawn", "1");
      // defaultStyle: false, so vega-embed injects no <style> (the CSP allows none inline)
      var options = { actions: false, renderer: "svg", ast: true, defaultStyle: false };
      if (window.vegaInterpreter) options.expr = window.vegaInterpreter.expressionInterpreter;
      window.vegaEmbed(target, spec, options).catch(function (err) {
        target.removeAttribute("data-drawn");
        target.textContent = String(err);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
