// Small conveniences on top of server-rendered pages; everything works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("dg-js");

  // Invitation links: select the whole link on focus so it can be copied in one go.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-dg-copy")) {
      target.select();
    }
  });

  // Waiting in the lobby: ask quietly every few seconds, and move on once the facilitator let
  // us in (a redirect) or did not (another answer). No reloading page for screen readers.
  if (document.querySelector("[data-dg-lobby-wait]") && window.fetch) {
    window.setInterval(function () {
      fetch(location.href, { credentials: "same-origin" }).then(function (response) {
        if (response.redirected || response.status !== 200) location.assign(response.url);
      }).catch(function () {});
    }, 3000);
  }

  // --- "Are you sure?" as a dialog --------------------------------------------------------
  // A remove link leads to a confirmation page; with this script the same question opens in
  // a modal dialog on the page itself. Closing it puts the focus back where it was.

  var dialog = document.querySelector("[data-dg-confirm-dialog]");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var form = dialog.querySelector("form");
  var cancel = dialog.querySelector("[data-dg-cancel]");
  var opener = null; // the href of the link that opened the dialog
  var openerSection = null;

  function findOpener() {
    if (!opener) return null;
    var links = document.querySelectorAll("a[data-dg-confirm]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("href") === opener) return links[i];
    }
    return null;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-dg-confirm]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    opener = link.getAttribute("href");
    var section = link.closest("section[id]");
    openerSection = section ? section.id : null;
    form.setAttribute("action", opener);
    dialog.querySelector("[data-dg-confirm-question]").textContent =
      link.getAttribute("data-dg-confirm");
    var quote = dialog.querySelector("[data-dg-confirm-quote]");
    var text = link.getAttribute("data-dg-quote") || "";
    quote.textContent = text;
    quote.hidden = !text;
    var undoable = link.hasAttribute("data-dg-undoable");
    dialog.querySelector("[data-dg-confirm-undoable]").hidden = !undoable;
    dialog.querySelector("[data-dg-confirm-final]").hidden = undoable;
    dialog.returnValue = "";
    dialog.showModal();
    cancel.focus(); // the safe answer first
  });

  cancel.addEventListener("click", function () {
    dialog.close("cancel");
  });

  dialog.addEventListener("close", function () {
    if (dialog.returnValue === "done") return;
    var link = findOpener();
    if (link) {
      var details = link.closest("details");
      if (details) details.open = true;
      link.focus();
    }
  });

  function focusAfterRemoval(href) {
    // A removed card can be put back: its "Undo" button is the natural next stop.
    var match = /\/kaart\/([^/]+)\/verwijderen\/$/.exec(href);
    var undo = match && document.querySelector('[data-dg-undo="' + match[1] + '"] button');
    if (undo) {
      undo.focus();
      return;
    }
    var section = openerSection && document.getElementById(openerSection);
    var heading = section && section.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    // On the live worksheet the answer is patched in place (live.js), keeping what others
    // are typing; elsewhere the form simply posts and the next page loads.
    if (!window.htmx || !document.querySelector("[data-dg-live]")) return;
    event.preventDefault();
    var href = form.getAttribute("action");
    var values = {};
    new FormData(form).forEach(function (value, name) { values[name] = value; });
    window.htmx.ajax("POST", href, { source: form, values: values, swap: "none" })
      .then(function () {
        dialog.close("done");
        focusAfterRemoval(href);
      });
  });
})();
