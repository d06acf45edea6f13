// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // The business switcher opens the chosen business at once (its button is for no-JS browsers).
  var switcher = document.getElementById("switcher");
  if (switcher) {
    var go = switcher.querySelector(".switch-go");
    if (go) go.hidden = true;
    switcher.business.addEventListener("change", function () { switcher.submit(); });
  }
});
