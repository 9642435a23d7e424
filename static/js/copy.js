/* A "copy" button for a read-only field: <button data-copy="field-id" hidden>.
   Without script the button stays hidden and the field stays selectable. */
(function () {
  "use strict";

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var status = document.getElementById(field.id + "-status");
    function tell(text) {
      if (status) {
        status.textContent = text;
      }
    }
    function byHand() {
      field.focus();
      field.select();
      try {
        return document.execCommand("copy");
      } catch (error) {
        return false;
      }
    }
    button.addEventListener("click", function () {
      var copied = button.getAttribute("data-copied");
      var failed = button.getAttribute("data-failed");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { tell(copied); },
          function () { tell(byHand() ? copied : failed); }
        );
      } else {
        tell(byHand() ? copied : failed);
      }
    });
    button.hidden = false;
  });
})();
