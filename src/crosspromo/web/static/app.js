// Small progressive enhancements; every page works without them. They live here, not inline,
// so the Content-Security-Policy can forbid inline script (script-src 'self').
(function () {
  'use strict';

  document.addEventListener('DOMContentLoaded', function () {
    // The business switcher opens the chosen business at once (its button is for no-JS browsers).
    var switcher = document.getElementById('switcher');
    if (switcher) {
      var go = switcher.querySelector('.switch-go');
      if (go) go.hidden = true;
      switcher.business.addEventListener('change', function () { switcher.submit(); });
    }
  });

  document.addEventListener('click', function (event) {
    // the category picker: a result fills the hidden field
    var option = event.target.closest('[data-category]');
    if (option) {
      event.preventDefault();
      document.getElementById('category-code').value = option.dataset.category;
      document.getElementById('category-chosen').textContent =
        option.dataset.name;
      document.getElementById('category-options').innerHTML = '';
      return;
    }
    // a copy button puts its text (a referral link) on the clipboard
    var copy = event.target.closest('[data-copy]');
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.dataset.copy);
      return;
    }
    // read-only fields with a link or a key: one click selects it for copying
    var field = event.target.closest('[data-select-on-click]');
    if (field) field.select();
  });

  document.addEventListener('submit', function (event) {
    // an irreversible step asks first (the campaign's launch, results, closing)
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.addEventListener('change', function (event) {
    // a select that submits its form (task status)
    if (event.target.matches('[data-submit-on-change]') && event.target.form) {
      event.target.form.submit();
    }
  });
})();
