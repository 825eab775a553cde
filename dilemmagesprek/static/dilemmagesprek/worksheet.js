// The worksheet on top of the server's page: live hints on the shared question, and on a
// phone one step at a time. Without this file every step is on the page and hints appear
// after saving.
(function () {
  "use strict";

  var sheet = document.getElementById("worksheet");
  if (!sheet) return;

  // --- hints on the shared question --------------------------------------------------------
  // The rules come from the server (worksheets/hints.py) as data, so both judge alike.

  var WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

  function words(text) {
    return text.toLocaleLowerCase().match(WORD) || [];
  }

  function escape(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function judge(rules, text) {
    var found = words(text);
    if (!found.length) return { words: 0, codes: [] };
    var codes = [];
    if (found.length > rules.max_words) codes.push("too_long");
    if (text.indexOf(",") >= 0) codes.push("comma");
    if (rules.avoid_first.indexOf(found[0]) >= 0) codes.push("starts_with_how");
    else if (rules.prefer_first.indexOf(found[0]) < 0) codes.push("no_preferred_verb");
    var joined = found.join(" ");
    var steering = rules.steering.some(function (phrase) {
      return new RegExp("(?<![\\p{L}\\p{N}_])" + escape(phrase) + "(?![\\p{L}\\p{N}_])", "u")
        .test(joined);
    });
    if (steering) codes.push("steering");
    return { words: found.length, codes: codes };
  }

  function showHints(input) {
    var box = document.getElementById(input.id.replace(/-text$/, "-hints"));
    if (!box) return;
    var rules = JSON.parse(box.getAttribute("data-rules"));
    var result = judge(rules, input.value);
    box.querySelectorAll("[data-hint]").forEach(function (item) {
      var code = item.getAttribute("data-hint");
      item.hidden = code === "good"
        ? !(result.words && !result.codes.length)
        : result.codes.indexOf(code) < 0;
    });
  }

  var hintTimer = null;
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-dg-question-input]")) return;
    // A short pause first: the hints follow the thought, not every key.
    window.clearTimeout(hintTimer);
    hintTimer = window.setTimeout(function () { showHints(input); }, 500);
  });

  // --- on a phone: one step at a time ------------------------------------------------------

  var phone = window.matchMedia("(max-width: 40rem)");
  var shown = null;
  var pager = document.createElement("nav");
  pager.className = "dg-pager";
  pager.setAttribute("aria-label", sheet.getAttribute("data-label-pager") || "");
  sheet.after(pager);
  sheet.classList.add("dg-worksheet--paged");

  function steps() {
    return Array.prototype.slice.call(sheet.querySelectorAll(":scope > .dg-step"));
  }

  function currentStep() {
    var nav = document.getElementById("steps-nav");
    return nav ? nav.getAttribute("data-current-step") : null;
  }

  function nameOf(step) {
    return step.getAttribute("data-dg-name") || "";
  }

  function pagerLink(step, label) {
    var link = document.createElement("a");
    link.href = "#" + step.id;
    link.className = "dg-pager__link";
    link.textContent = (sheet.getAttribute("data-label-" + label) || "%s")
      .replace("%s", nameOf(step));
    return link;
  }

  function apply() {
    var all = steps();
    var index = -1;
    all.forEach(function (step, i) {
      var on = step.id === "step-" + shown;
      step.classList.toggle("dg-step--shown", on);
      if (on) index = i;
    });
    document.querySelectorAll("#steps-nav a").forEach(function (link) {
      var on = link.getAttribute("href") === "#step-" + shown;
      link.parentElement.classList.toggle("dg-steps__item--shown", on);
    });
    pager.textContent = "";
    if (index > 0) pager.appendChild(pagerLink(all[index - 1], "previous"));
    if (index >= 0 && index < all.length - 1) pager.appendChild(pagerLink(all[index + 1], "next"));
  }

  function focusHeading() {
    var heading = document.getElementById("step-" + shown + "-title");
    if (heading && phone.matches) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  function show(number, focus) {
    if (!number || !document.getElementById("step-" + number)) return;
    shown = String(number);
    apply();
    // After the link has done its own work (moving to the fragment), so the focus stays.
    if (focus) window.setTimeout(focusHeading, 0);
  }

  // The step a link points to: a step itself, or anything inside one (e.g. a field).
  function stepOf(hash) {
    if (!hash || hash.length < 2) return null;
    var target = document.getElementById(decodeURIComponent(hash.slice(1)));
    var step = target && target.closest(".dg-step");
    return step && sheet.contains(step) ? step.id.replace("step-", "") : null;
  }

  window.addEventListener("hashchange", function () {
    var step = stepOf(location.hash);
    if (step && step !== shown) show(step, true);
  });
  // A link to a step (the step list, the pager, an error message) shows that step first, so
  // the browser can scroll to it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#"]');
    var step = link && stepOf(link.getAttribute("href"));
    if (step) show(step, true);
  });
  // live.js: the facilitator moved on and this screen follows, or the page was patched.
  document.addEventListener("dg:show-step", function (event) { show(event.detail, false); });
  document.addEventListener("dg:patched", apply);

  show(stepOf(location.hash) || currentStep() || "1", false);
})();
