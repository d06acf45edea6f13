// crosspromo: the page behaviour that used to be inline, so the Content-Security-Policy can
// forbid inline script (script-src 'self').
(function () {
  'use strict';

  document.addEventListener('click', function (event) {
    // the category picker: a result fills the hidden field
    var option = event.target.closest('[data-category]');
    if (option) {
      event.preventDefault();
      document.getElementById('category-code').value = option.dataset.category;
      document.getElementById('category-chosen').textContent =
        option.dataset.name + ' (' + option.dataset.category + ')';
      document.getElementById('category-options').innerHTML = '';
      return;
    }
    // read-only fields with a link or a key: one click selects it for copying
    var field = event.target.closest('[data-select-on-click]');
    if (field) field.select();
  });

  document.addEventListener('change', function (event) {
    // the business switcher in the header
    var switcher = event.target.closest('[data-business-switcher]');
    if (switcher && switcher.business) {
      window.location = '/b/' + encodeURIComponent(switcher.business.value);
      return;
    }
    // a select that submits its form (task status)
    if (event.target.matches('[data-submit-on-change]') && event.target.form) {
      event.target.form.submit();
    }
  });
})();
