/* Login and password pages: a "show password" toggle button next to each
   password field of a form marked data-password-toggle (the fields work
   without it), and the lost-password link following the site chosen. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-password-toggle]").forEach(function (form) {
    var label = form.getAttribute("data-password-toggle");
    form.querySelectorAll('input[type="password"]').forEach(function (input) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-outline-secondary btn-sm mt-1 password-toggle";
      button.textContent = label;
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-controls", input.id);
      button.addEventListener("click", function () {
        var shown = input.type === "password";
        input.type = shown ? "text" : "password";
        button.setAttribute("aria-pressed", shown ? "true" : "false");
      });
      // Back to a password field before sending: the browser's password
      // manager still recognises it.
      form.addEventListener("submit", function () {
        input.type = "password";
        button.setAttribute("aria-pressed", "false");
      });
      input.insertAdjacentElement("afterend", button);
    });
  });

  document.querySelectorAll("a[data-site-link]").forEach(function (link) {
    var select = document.getElementById(link.getAttribute("data-site-link"));
    if (!select) {
      return;
    }
    select.addEventListener("change", function () {
      var url = new URL(link.href);
      if (select.value) {
        url.searchParams.set("site", select.value);
      } else {
        url.searchParams.delete("site");
      }
      link.href = url.toString();
    });
  });
})();
