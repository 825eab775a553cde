// Small conveniences on top of server-rendered pages; everything works without this file.
(function () {
  "use strict";
  // Invitation links: select the whole link on focus so it can be copied in one go.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-dg-copy")) {
      target.select();
    }
  });
})();
