// Live worksheet: follow committed changes over the conversation socket and keep what the
// user is typing. Without this file every form still posts and redirects; see
// docs/live-protocol.md for the messages.
(function () {
  "use strict";

  var root = document.querySelector("[data-dg-live]");
  if (!root || !("WebSocket" in window) || !window.fetch || !window.DOMParser) {
    return;
  }
  var statusBox = document.querySelector("[data-dg-live-status]");
  var seq = Number(root.getAttribute("data-seq")) || 0;
  var socket = null;
  var attempt = 0;
  var refreshTimer = null;
  var refreshing = false;
  var refreshAgain = false;
  var pending = []; // forms whose post did not reach the server
  var saving = {}; // operation id → {form, text}: texts sent over the socket, not yet answered
  var live = false; // the socket is open and has answered our hello

  function label(name) {
    return statusBox ? statusBox.getAttribute("data-label-" + name) || "" : "";
  }

  function setStatus(state) {
    if (!statusBox) return;
    statusBox.setAttribute("data-state", state);
    var text = label(state);
    var unsaved = pending.length || Object.keys(saving).length;
    if (unsaved && state !== "offline") text = label("unsaved");
    if (unsaved && state === "offline") text = label("offline") + " " + label("unsaved");
    statusBox.textContent = text;
  }

  // --- the socket ---------------------------------------------------------------------------

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.getAttribute("data-ws-path"));
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "hello", last_seq: seq }));
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (data.type === "event") {
        if (data.seq <= seq) return; // a duplicate: already applied
        if (data.seq > seq + 1) {
          // A gap: reconnecting replays everything after the last event we have.
          socket.close();
          return;
        }
        seq = data.seq;
        if (applyInPlace(data) || stepInPlace(data) || timerInPlace(data)) return;
        if (String(data.actor) !== me) changedByOthers = true;
        if (coveredByAnswer(data)) return;
        scheduleRefresh(regionsFor(data));
      } else if (data.type === "ready") {
        attempt = 0;
        live = true;
        setStatus("online");
        resendPending();
      } else if (data.type === "saved") {
        saved(data);
      } else if (data.type === "rejected") {
        postInstead(data.op);
      } else if (data.type === "not_saved") {
        var entry = saving[data.op];
        delete saving[data.op];
        if (entry) keepUnsent(entry.form, false);
      } else if (data.type === "resync") {
        scheduleRefresh(ALL);
      } else if (data.type === "presence") {
        showPresence(data.members);
      } else if (data.type === "typing") {
        showTyping(data);
      }
    };
    socket.onclose = function (event) {
      socket = null;
      live = false;
      // Saves without an answer may or may not have landed: send them again (the operation
      // id makes a second arrival harmless).
      Object.keys(saving).forEach(function (op) {
        var entry = saving[op];
        delete saving[op];
        keepUnsent(entry.form, true);
      });
      setStatus("offline");
      if (event.code === 4403) return; // no longer a member: do not knock again
      if (event.code === 4401) { // the session ended: the page says what to do next
        location.reload();
        return;
      }
      var delay = Math.min(4000, 250 * Math.pow(2, attempt++));
      window.setTimeout(function () { if (!socket) connect(); }, delay);
    };
  }

  // --- applying changes without losing what the user is doing -------------------------------

  // Which live regions an event touched, so the refresh renders only those: a change to one
  // field fetches its step, not the whole worksheet. ALL when we cannot tell.
  var ALL = "all";
  var wanted = null; // what the next refresh fetches: ALL, or an object of region ids

  function regionOf(id) {
    var element = document.getElementById(id);
    var region = element && element.closest("[data-dg-region]");
    return region ? region.id : null;
  }

  function onPage(id) {
    return document.getElementById(id) ? id : null;
  }

  function regionsFor(frame) {
    var data = frame.data || {};
    var type = frame.event || "";
    var ids;
    if (type === "field.updated" || type === "field.confirmed") {
      ids = [regionOf("field-" + data.key)];
    } else if (type.indexOf("card.") === 0) {
      // A card may be in the spotlight too.
      ids = [regionOf(data.column ? "col-" + data.column : "card-" + data.id), "spotlight"];
    } else if (type.indexOf("next_step.") === 0 || type === "evaluation.saved") {
      ids = [regionOf("field-" + data.field)];
    } else if (type === "conversation.step") {
      // The "current" mark moves from one step's head to another's, the timer goes with it.
      // The step the page still shows as current is the one left (several step changes
      // before one fetch add up their steps).
      ids = ["steps-nav", "step-" + currentStep() + "-head", "step-" + data.step + "-head"]
        .map(onPage);
    } else if (type === "conversation.timer") {
      ids = ["step-" + currentStep() + "-head"].map(onPage);
      if (onPage("facilitator-bar")) ids.push("facilitator-bar"); // only whoever leads has it
    } else {
      return ALL; // members, settings, columns: they show in several places
    }
    return ids.indexOf(null) >= 0 ? ALL : ids;
  }

  // Text as the server prints it (linebreaksbr): lines with <br> between them.
  function setLines(element, text) {
    element.textContent = "";
    text.split(/\r\n|\r|\n/).forEach(function (line, index) {
      if (index) element.appendChild(document.createElement("br"));
      element.appendChild(document.createTextNode(line));
    });
  }

  // A form whose text must not be touched: changed, waiting to be sent, or with the cursor in
  // one of its boxes. Focus on its button (just pressed "Save") does not count.
  function isBusy(form) {
    var active = document.activeElement;
    var typing = form.contains(active) && active.matches("textarea, input:not([type=hidden])") &&
      !active.matches("[type=submit], [type=button], [type=radio], [type=checkbox]");
    return isDirty(form) || typing || form.hasAttribute("data-dg-pending");
  }

  // The most frequent changes, a saved text or a card's new wording, need no fetch at all:
  // the event carries the text. A form the user is busy with keeps its own text (and, for a
  // field, the version it started from), so their own save merges as before.
  function applyInPlace(frame) {
    var data = frame.data || {};
    if (typeof data.text !== "string") return false;
    var changed = null;
    if (frame.event === "field.updated") changed = fieldInPlace(data);
    else if (frame.event === "card.updated") changed = cardInPlace(data);
    if (!changed) return false;
    if (String(frame.actor) !== me) {
      var region = changed.closest("[data-dg-region]");
      var name = region && region.getAttribute("data-dg-name");
      if (name && changedSteps.indexOf(name) < 0) changedSteps.push(name);
      scheduleAnnouncement();
    }
    document.dispatchEvent(new CustomEvent("dg:patched"));
    return true;
  }

  // A card: its text, its edit form and the quote in its remove dialog; and the spotlight
  // when it shows this card.
  function cardInPlace(data) {
    var card = document.getElementById("card-" + data.id);
    var shown = card && card.querySelector(".dg-card__text");
    if (!shown) return null;
    setLines(shown, data.text);
    var form = card.querySelector("form");
    var text = form && form.querySelector("textarea[name=text]");
    if (text && !isBusy(form)) text.value = text.defaultValue = data.text;
    var remove = card.querySelector("[data-dg-quote]");
    if (remove) remove.setAttribute("data-dg-quote", data.text);
    document.querySelectorAll(".dg-spotlight[data-dg-card]").forEach(function (spot) {
      var spotText = spot.querySelector(".dg-spotlight__text");
      if (spot.getAttribute("data-dg-card") === String(data.id) && spotText) {
        setLines(spotText, data.text);
      }
    });
    return card;
  }

  // A text field marked data-dg-inplace: nothing else on the page (a confirmation, hints)
  // depends on its text.
  function fieldInPlace(data) {
    var box = document.getElementById("field-" + data.key);
    if (!box || !box.hasAttribute("data-dg-inplace")) return null;
    var form = box.querySelector("form");
    var shown = box.querySelector(".dg-field__text");
    if (form) {
      var text = form.querySelector("textarea[name=text]");
      var version = form.querySelector("input[name=version]");
      if (!text || !version) return null;
      if (!isBusy(form)) {
        text.value = text.defaultValue = data.text;
        version.value = version.defaultValue = String(data.version);
      }
    } else if (shown && data.text) {
      setLines(shown, data.text);
    } else if (shown) {
      var empty = document.createElement("span");
      empty.className = "dg-muted";
      empty.textContent = shown.getAttribute("data-label-empty") || "";
      shown.textContent = "";
      shown.appendChild(empty);
    } else {
      return null;
    }
    return box;
  }

  // A step change, on a screen without the facilitator's step buttons: the "current" marks
  // and the timer move from one step's head to the other without a request. Every screen of
  // a conversation fetching two heads at once was the load test's slowest moment
  // (docs/performance.md). Whoever leads still fetches: their heads carry the buttons.
  function stepInPlace(frame) {
    if (frame.event !== "conversation.step") return false;
    var data = frame.data || {};
    var nav = document.getElementById("steps-nav");
    if (!nav || document.querySelector("form[action$='/stap/']")) return false;
    var from = currentStep();
    var to = String(data.step);
    if (from === to) return true;
    var oldHead = document.getElementById("step-" + from + "-head");
    var newHead = document.getElementById("step-" + to + "-head");
    var oldLink = nav.querySelector("a[href='#step-" + from + "']");
    var newLink = nav.querySelector("a[href='#step-" + to + "']");
    var timer = oldHead && oldHead.querySelector("[data-dg-timer]");
    if (!newHead || !oldLink || !newLink || !timer) return false;
    var heads = regionsFor(frame); // what a fetch for this change would ask for

    nav.setAttribute("data-current-step", to);
    oldLink.removeAttribute("aria-current");
    newLink.setAttribute("aria-current", "step");
    oldLink.closest("li").classList.remove("dg-steps__item--current");
    newLink.closest("li").classList.add("dg-steps__item--current");
    var spoken = oldLink.querySelector(".dg-visually-hidden");
    if (spoken) newLink.appendChild(spoken);
    var badge = oldHead.querySelector(".dg-badge--current");
    var title = newHead.querySelector(".dg-step__title");
    if (badge && title) title.appendChild(badge);
    moveTimer(timer, newHead, data);

    // A fetch on its way may have been rendered before this change: fetch these again after it.
    if (refreshing) scheduleRefresh(heads);
    if (String(frame.actor) !== me) {
      var section = document.getElementById("step-" + to);
      openedStep = (section && section.getAttribute("data-dg-name")) || to;
      scheduleAnnouncement();
    }
    afterPatch();
    document.dispatchEvent(new CustomEvent("dg:patched"));
    return true;
  }

  // The timer starts over for the new step from what the event says (seconds run, extra
  // minutes, running or paused) and the step's planned time, printed on its head.
  function moveTimer(timer, head, data) {
    setClock(timer, head, data);
    var of = timer.querySelector(".dg-timer__of");
    if (of) of.textContent = head.getAttribute("data-label-timer-of") || "";
    var instruction = head.querySelector(".dg-step__instruction");
    if (instruction) instruction.after(timer);
    else head.appendChild(timer);
  }

  function setClock(timer, head, data) {
    var planned = plannedSeconds(head, data);
    var remaining = planned - (Number(data.elapsed) || 0);
    var running = Boolean(data.running);
    timer.setAttribute("data-planned-total", String(planned));
    timer.setAttribute("data-remaining", String(remaining));
    timer.setAttribute("data-running", running ? "1" : "0");
    delete timer.dgStartedAt;
    lastRemaining = null; // a new start: the last-minute notice may come (again)
    timer.classList.toggle("dg-timer--over", remaining <= 0);
    var clock = timer.querySelector("[data-dg-clock]");
    if (clock) clock.textContent = formatClock(remaining);
    var state = timer.querySelector("[data-dg-timer-state]");
    if (state) {
      state.textContent = remaining <= 0 ? state.getAttribute("data-label-over")
        : running ? "" : state.getAttribute("data-label-paused");
    }
    var announce = timer.querySelector("[data-dg-timer-announce]");
    if (announce) announce.textContent = "";
  }

  // The step's time box and the minutes added to it.
  function plannedSeconds(head, data) {
    return (Number(head.getAttribute("data-planned-seconds")) || 0) +
      (Number(data.extra) || 0) * 60;
  }

  // The timer started or paused: every screen sets its clock from the event, without a
  // request. Extra minutes change the "of N minutes" the server words, so the head is fetched
  // then. A page with the facilitator's bar needs it again (its button turns from Start to
  // Pause), unless the post that made the change was its own: the answer brought it.
  function timerInPlace(frame) {
    if (frame.event !== "conversation.timer") return false;
    var data = frame.data || {};
    var head = document.getElementById("step-" + currentStep() + "-head");
    var timer = head && head.querySelector("[data-dg-timer]");
    var total = timer && timer.getAttribute("data-planned-total");
    if (!timer || total !== String(plannedSeconds(head, data))) return false;
    setClock(timer, head, data);
    var covered = coveredByAnswer(frame);
    // A fetch on its way may have been rendered before this change: fetch again after it.
    if (refreshing) scheduleRefresh(regionsFor(frame));
    else if (onPage("facilitator-bar") && !covered) scheduleRefresh(["facilitator-bar"]);
    document.dispatchEvent(new CustomEvent("dg:patched"));
    return true;
  }

  // `regions`: ALL, a list of region ids, or what an earlier refresh asked for (an object of
  // ids) when it has to be asked for again.
  function want(regions) {
    if (regions === ALL || wanted === ALL) {
      wanted = ALL;
      return;
    }
    wanted = wanted || {};
    (Array.isArray(regions) ? regions : Object.keys(regions)).forEach(function (id) {
      wanted[id] = true;
    });
  }

  function scheduleRefresh(regions) {
    want(regions || ALL);
    if (refreshTimer) return;
    // Events that arrive together (a replay) share one fetch; a fetch in flight collects
    // the ones after it (refreshAgain).
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      refresh();
    }, 0);
  }

  // This page's own posts whose answer brings every region their event would fetch (the
  // facilitator's step and timer buttons, marked data-dg-answer-covers), by operation id:
  // "sent" while on its way, "answered" after it; the event then needs no fetch of its own.
  // An event that comes while its post is still on its way keeps the regions it would have
  // fetched, for when the post fails.
  var covering = {};

  function coveredByAnswer(frame) {
    var state = frame.op && covering[frame.op];
    if (!state) return false;
    if (state === "sent") covering[frame.op] = regionsFor(frame);
    else delete covering[frame.op];
    return true;
  }

  function coveringOp(form) {
    var op = form && form.hasAttribute && form.hasAttribute("data-dg-answer-covers") &&
      form.querySelector("input[name=op]");
    return op ? op.value : null;
  }

  // A save of this page's own that is on its way: its answer patches what it changed, and
  // must come first. A refresh patched in before it would keep the form being sent (it is
  // focused) and detach the element htmx swaps into, so the answer would be dropped.
  var inFlight = 0;
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    inFlight += 1;
    // What the form's texts said when it was sent: whatever is typed on meanwhile is kept
    // when the answer replaces the form (carryOver).
    var form = event.detail.elt;
    if (form && form.tagName === "FORM") form.dgSent = textsOf(form);
    // Not while a refresh is on its way: rendered before this change, it may land after the
    // answer, and then the event's own fetch must put things right.
    var op = coveringOp(form);
    if (op && !refreshing) covering[op] = "sent";
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    inFlight = Math.max(0, inFlight - 1);
    var op = coveringOp(event.detail.elt);
    if (op && covering[op]) {
      var waiting = covering[op];
      if (event.detail.successful) {
        // Rendered after the commit, so it shows the change; its event may still come.
        if (waiting === "sent") covering[op] = "answered";
        else delete covering[op];
      } else {
        delete covering[op];
        if (waiting !== "sent") want(waiting); // the event came, the answer did not
      }
    }
    if (!inFlight && wanted && !refreshTimer) {
      refreshTimer = window.setTimeout(function () {
        refreshTimer = null;
        refresh();
      }, 0);
    }
  });

  function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    if (!wanted || inFlight) return; // after the save's answer (htmx:afterRequest)
    var asked = wanted;
    wanted = null;
    var url = location.pathname;
    if (asked !== ALL) url += "?regions=" + encodeURIComponent(Object.keys(asked).join(","));
    refreshing = true;
    fetch(url, { credentials: "same-origin", headers: { "X-DG-Live": "1" } })
      .then(function (response) {
        if (response.status === 404 || response.status === 403) {
          location.reload();
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html && !inFlight) {
          patch(html, null);
        } else if (html) {
          want(asked); // a save left meanwhile: its answer first, then this again
        } else {
          retryLater(asked); // the server could not answer (busy, or failing)
        }
      })
      .catch(function () { retryLater(asked); })
      .then(function () {
        refreshing = false;
        if (refreshAgain) {
          refreshAgain = false;
          refresh();
        }
      });
  }

  // A refresh that failed is asked for again after a pause, with whatever came in meanwhile:
  // the screen must not wait for the next change to catch up.
  var retryTimer = null;
  function retryLater(asked) {
    want(asked);
    if (retryTimer) return;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      if (wanted) scheduleRefresh([]); // unless a later refresh brought it already
    }, 2000);
  }

  // Which form this is, the same in the old page and the fresh one: its action plus the hidden
  // fields that name its target (a cell's row; the facilitator's command, step, option, field
  // or card, which all post to one URL). Not the ones that change with every render.
  var CHANGING = { csrfmiddlewaretoken: 1, op: 1, version: 1, value: 1 };

  function formKey(form) {
    var key = form.getAttribute("action") || "";
    form.querySelectorAll("input[type=hidden]").forEach(function (input) {
      if (!CHANGING[input.name]) key += "|" + input.name + "=" + input.value;
    });
    return key;
  }

  function textFields(form) {
    return form.querySelectorAll("textarea, input[type=text], input:not([type])");
  }

  function textsOf(form) {
    var texts = {};
    textFields(form).forEach(function (field) {
      if (field.name) texts[field.name] = field.value;
    });
    return texts;
  }

  // The answer to a posted form replaces it. Text typed into it after it was sent is not lost:
  // a form the answer empties (a new card, a new action) keeps what was typed after the part
  // that was sent; any other form keeps the whole text as the user has it now, unsaved.
  // Returns by how much the text before the cursor got shorter.
  function carryOver(submitted, fresh, active) {
    var sent = submitted.dgSent;
    var shift = 0;
    if (!sent) return shift;
    textFields(submitted).forEach(function (field) {
      if (!(field.name in sent) || field.value === sent[field.name]) return;
      var target = fresh.querySelector("[name='" + field.name + "']");
      if (!target) return;
      var now = field.value;
      var sentText = sent[field.name];
      if (target.defaultValue === "" && sentText && now.indexOf(sentText) === 0) {
        var rest = now.slice(sentText.length).replace(/^\s+/, "");
        if (field === active) shift = now.length - rest.length;
        now = rest;
      }
      target.value = now;
    });
    return shift;
  }

  function isDirty(form) {
    var fields = textFields(form);
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) return true;
    }
    var choices = form.querySelectorAll("input[type=radio], input[type=checkbox]");
    for (var j = 0; j < choices.length; j++) {
      if (choices[j].checked !== choices[j].defaultChecked) return true;
    }
    return false;
  }

  // --- telling screen reader users, calmly, what others changed ----------------------------
  // Only which step changed, never a text: certainly not the one the user is typing. At most
  // one message every ANNOUNCE_EVERY ms; changes in between are gathered into the next one.

  var ANNOUNCE_EVERY = 10000;
  var announceBox = document.querySelector("[data-dg-announce]");
  var changedByOthers = false;
  var changedSteps = [];
  var openedStep = null;
  var lastAnnounced = 0;
  var announceTimer = null;

  function comparable(element) {
    var copy = element.cloneNode(true);
    // Not changes to tell: the clock, who is typing, and which step is the current one.
    var skip = "[data-dg-timer], [data-dg-typing], .dg-badge--current, form[action$='/stap/']";
    copy.querySelectorAll(skip).forEach(function (node) {
      node.remove();
    });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function noteChanges(old, region) {
    if (region.id === "steps-nav") {
      var step = region.getAttribute("data-current-step");
      if (step !== old.getAttribute("data-current-step")) {
        var section = document.getElementById("step-" + step);
        openedStep = (section && section.getAttribute("data-dg-name")) || step;
      }
      return;
    }
    var name = region.getAttribute("data-dg-name");
    if (name && changedSteps.indexOf(name) < 0 && comparable(old) !== comparable(region)) {
      changedSteps.push(name);
    }
  }

  function announce() {
    announceTimer = null;
    if (!announceBox || (!changedSteps.length && !openedStep)) return;
    var parts = [];
    if (openedStep) {
      parts.push((announceBox.getAttribute("data-label-step") || "%s").replace("%s", openedStep));
    }
    if (changedSteps.length) {
      parts.push((announceBox.getAttribute("data-label-changed") || "%s")
        .replace("%s", changedSteps.join(", ")));
    }
    announceBox.textContent = parts.join(" ");
    changedSteps = [];
    openedStep = null;
    lastAnnounced = Date.now();
  }

  function scheduleAnnouncement() {
    if (!announceBox || announceTimer || (!changedSteps.length && !openedStep)) return;
    var wait = Math.max(1000, lastAnnounced + ANNOUNCE_EVERY - Date.now());
    announceTimer = window.setTimeout(announce, wait);
  }

  // --- keeping the keyboard user's place ----------------------------------------------------
  // A replaced region takes the focused element with it. Remember the nearest ancestor with an
  // id and the element's place among that ancestor's focusable elements, so the focus lands
  // on the same button or link in the fresh region (or on the ancestor itself).

  var FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary, " +
    "[tabindex]:not([tabindex='-1'])";

  function placeOf(element) {
    if (!element || element === document.body || element.id) return null;
    var anchor = element.parentElement && element.parentElement.closest("[id]");
    if (!anchor) return null;
    var index = Array.prototype.indexOf.call(anchor.querySelectorAll(FOCUSABLE), element);
    return { anchor: anchor.id, index: index };
  }

  function returnTo(place) {
    var current = document.activeElement;
    if (!place || (current && current !== document.body && document.contains(current))) return;
    var anchor = document.getElementById(place.anchor);
    if (!anchor) return;
    var target = anchor.querySelectorAll(FOCUSABLE)[place.index];
    if (!target) {
      target = anchor;
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    }
    target.focus({ preventScroll: true });
  }

  // Replace every live region with its fresh version, but keep each form the user is typing
  // in (its text, cursor and the version it started from) and each open <details>.
  function patch(html, submitted) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("[data-dg-live]");
    // Only a whole page may move the sequence number on: a partial one leaves the other
    // regions as old as the events this page has applied.
    if (fresh && !fresh.hasAttribute("data-dg-partial")) {
      seq = Math.max(seq, Number(fresh.getAttribute("data-seq")) || 0);
    }
    var fromOthers = changedByOthers && !submitted;
    changedByOthers = false;
    var active = document.activeElement;
    var activeId = active && active.id;
    var activeTabindex = active && active.getAttribute("tabindex");
    var place = placeOf(active);
    var selection = null;
    if (active && typeof active.selectionStart === "number") {
      selection = [active.selectionStart, active.selectionEnd];
    }
    doc.querySelectorAll("[data-dg-region]").forEach(function (region) {
      // A region inside another (a step's head in its step) comes along with that one.
      if (region.parentElement && region.parentElement.closest("[data-dg-region]")) return;
      var old = document.getElementById(region.id);
      if (!old) return;
      if (fromOthers) noteChanges(old, region);
      var keep = {};
      old.querySelectorAll("form").forEach(function (form) {
        if (form === submitted) return;
        if (isDirty(form) || form.contains(active) || form.hasAttribute("data-dg-pending")) {
          keep[formKey(form)] = form;
        }
      });
      var open = {};
      old.querySelectorAll("details[open]").forEach(function (details) {
        var inner = details.querySelector("form");
        if (inner) open[formKey(inner)] = true;
      });
      var replacement = document.importNode(region, true);
      var sentKey = submitted && old.contains(submitted) ? formKey(submitted) : null;
      replacement.querySelectorAll("form").forEach(function (form) {
        var key = formKey(form);
        var kept = keep[key];
        if (kept) {
          form.replaceWith(kept);
        } else if (key === sentKey) {
          var shift = carryOver(submitted, form, active);
          if (selection && shift) {
            selection = [Math.max(0, selection[0] - shift), Math.max(0, selection[1] - shift)];
          }
        }
      });
      replacement.querySelectorAll("details").forEach(function (details) {
        var inner = details.querySelector("form");
        if (inner && open[formKey(inner)]) details.open = true;
      });
      old.replaceWith(replacement);
      if (window.htmx) window.htmx.process(replacement);
    });
    afterPatch();
    scheduleAnnouncement();
    document.dispatchEvent(new CustomEvent("dg:patched"));
    if (activeId) {
      var again = document.getElementById(activeId);
      if (again && again !== document.activeElement) {
        // A head that was given the focus (returnTo) is given it again in its new version.
        if (activeTabindex !== null && !again.hasAttribute("tabindex")) {
          again.setAttribute("tabindex", activeTabindex);
        }
        again.focus({ preventScroll: true });
        if (selection && typeof again.setSelectionRange === "function") {
          again.setSelectionRange(selection[0], selection[1]);
        }
      }
    }
    returnTo(place);
  }

  // --- writes: htmx posts the form; we swap the answer in with the same care ---------------

  // The form that was sent. htmx fires beforeSwap on the swap target (the step), so the form
  // comes from the request's own configuration.
  function sentForm(event) {
    var config = event.detail.requestConfig;
    return (config && config.elt) || event.detail.elt;
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var form = sentForm(event);
    var status = event.detail.xhr.status;
    if (status >= 200 && status < 300 || status === 409 || status === 422) {
      event.detail.shouldSwap = false;
      if (form && form.removeAttribute) form.removeAttribute("data-dg-pending");
      pending = pending.filter(function (f) { return f !== form; });
      patch(event.detail.xhr.responseText, form);
      setStatus(socket ? "saved" : "offline");
    }
  });

  function keepUnsent(form, offline) {
    if (!form || form.tagName !== "FORM") return;
    form.setAttribute("data-dg-pending", "");
    if (pending.indexOf(form) < 0) pending.push(form);
    setStatus(offline ? "offline" : "online");
    scheduleResend();
  }

  // No answer at all: the network is down.
  document.body.addEventListener("htmx:sendError", function (event) {
    keepUnsent(sentForm(event), true);
  });

  // An answer that is not an acknowledgement (the server could not store it, e.g. while its
  // database is away): the edit stays in the form, marked unsent, and is tried again.
  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 500 || status === 429 || status === 0) keepUnsent(sentForm(event), false);
  });

  var resendTimer = null;
  var resendDelay = 2000;
  function scheduleResend() {
    if (resendTimer || !pending.length) return;
    resendTimer = window.setTimeout(function () {
      resendTimer = null;
      if (socket && socket.readyState === 1) resendPending();
      resendDelay = Math.min(resendDelay * 2, 15000);
      scheduleResend();
    }, resendDelay);
  }

  function resendPending() {
    var forms = pending.slice();
    pending = [];
    if (!forms.length) resendDelay = 2000;
    forms.forEach(function (form) {
      // The form still carries its operation id, so a post that did arrive is not applied
      // twice: the server answers it with the original result.
      if (document.body.contains(form)) window.htmx.trigger(form, "submit");
    });
  }

  // --- saving a text over the socket ------------------------------------------------------
  // A text field the page updates in place (data-dg-inplace) is saved with a `save` frame,
  // a card's new wording with `save_card`, instead of a post: the form stays as it is, so
  // nothing typed meanwhile can be lost, and its version and operation id are renewed from
  // the answer. Whatever is not simply stored is posted as a form after all, and the
  // server's answer shows the message or the conflict.

  var MAX_FRAME = Number(root.getAttribute("data-ws-max-bytes")) || 0;
  var encoder = window.TextEncoder ? new TextEncoder() : null;

  function newOp() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  // The frame for a form that can go over the socket: a text field shown in place, or a
  // card's edit form. Null when the form must be posted.
  function socketSave(form) {
    if (!live || !encoder || !window.crypto || form.dgPost) return null;
    var text = form.querySelector("textarea[name=text]");
    var op = form.querySelector("input[name=op]");
    if (!text || !op) return null;
    var frame;
    var key = form.getAttribute("data-dg-key");
    var card = form.getAttribute("data-dg-card-id");
    var version = form.querySelector("input[name=version]");
    if (key && version && form.closest("[data-dg-inplace]")) {
      frame = JSON.stringify({
        type: "save", op: op.value, field: key, text: text.value, version: Number(version.value)
      });
    } else if (card) {
      frame = JSON.stringify({ type: "save_card", op: op.value, card: card, text: text.value });
    } else {
      return null;
    }
    if (encoder.encode(frame).length > MAX_FRAME) return null; // too large for a frame: post it
    return { frame: frame, op: op.value, text: text.value };
  }

  // Before htmx sees the submit (capture phase): send it over the socket when we can.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM" || !root.contains(form)) return;
    var save = socketSave(form);
    if (!save) return;
    event.preventDefault();
    event.stopPropagation();
    saving[save.op] = { form: form, text: save.text };
    form.setAttribute("data-dg-pending", "");
    pending = pending.filter(function (f) { return f !== form; });
    socket.send(save.frame);
  }, true);

  function saved(data) {
    var entry = saving[data.op];
    delete saving[data.op];
    if (!entry) return;
    var form = entry.form;
    form.removeAttribute("data-dg-pending");
    var text = form.querySelector("textarea[name=text]");
    var version = form.querySelector("input[name=version]");
    var op = form.querySelector("input[name=op]");
    // The server may store other text than was sent (a merge, trimmed spaces): show it,
    // unless the user typed on meanwhile (then their box stays as it is and counts as
    // changed, to be saved next).
    if (text.value === entry.text && data.text !== entry.text) text.value = data.text;
    text.defaultValue = data.text;
    if (version && typeof data.version === "number") {
      version.value = version.defaultValue = String(data.version);
    }
    op.value = op.defaultValue = newOp();
    // The card on this page shows its new wording now (a card written alone gets no text in
    // its event, and the event may come after this answer).
    if (data.card) cardInPlace({ id: data.card, text: data.text });
    // A message from an earlier attempt (an error, a conflict now resolved) no longer holds.
    form.querySelectorAll(".dg-error, .dg-alert").forEach(function (node) { node.remove(); });
    text.removeAttribute("aria-invalid");
    var described = (text.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && document.getElementById(id);
    });
    if (described.length) text.setAttribute("aria-describedby", described.join(" "));
    else text.removeAttribute("aria-describedby");
    setStatus("saved");
  }

  function postInstead(op) {
    var entry = saving[op];
    delete saving[op];
    if (!entry || !document.body.contains(entry.form)) return;
    entry.form.dgPost = true; // this form now goes by post, retries included
    window.htmx.trigger(entry.form, "submit");
  }

  // --- presence: who is here, and who is typing where --------------------------------------

  var presenceBox = document.querySelector("[data-dg-presence]");
  var me = root.getAttribute("data-member");

  function showPresence(members) {
    if (!presenceBox) return;
    var names = members.map(function (member) { return member.name; });
    presenceBox.textContent = presenceBox.getAttribute("data-label") + " " + names.join(", ");
  }

  function showTyping(data) {
    if (data.member === me) return;
    var box = document.getElementById(data.form);
    if (!box) return;
    var note = box.querySelector("[data-dg-typing]");
    if (!note) {
      note = document.createElement("p");
      note.className = "dg-typing";
      note.setAttribute("data-dg-typing", "");
      box.appendChild(note);
    }
    note.textContent = (root.getAttribute("data-label-typing") || "%s").replace("%s", data.name);
    window.clearTimeout(note.dgTimer);
    note.dgTimer = window.setTimeout(function () { note.remove(); }, 3000);
  }

  var lastTyping = 0;
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || !root.contains(form) || !socket || socket.readyState !== 1) return;
    var box = form.id ? form : form.parentElement && form.parentElement.closest("[id]");
    var now = Date.now();
    if (!box || now - lastTyping < 2000) return;
    lastTyping = now;
    socket.send(JSON.stringify({ type: "typing", form: box.id }));
  });

  // --- following the facilitator -----------------------------------------------------------

  var following = true;
  var followBox = document.querySelector("[data-dg-follow]");

  function currentStep() {
    var nav = document.getElementById("steps-nav");
    return nav ? nav.getAttribute("data-current-step") : null;
  }

  function showCurrentStep() {
    var step = document.getElementById("step-" + currentStep());
    if (!step) return;
    // On a phone only one step is on screen (worksheet.js): make it this one.
    document.dispatchEvent(new CustomEvent("dg:show-step", { detail: currentStep() }));
    var reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    step.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
  }

  function setFollowing(value) {
    following = value;
    if (followBox) followBox.hidden = value;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#steps-nav a");
    if (link) setFollowing(link.getAttribute("href") === "#step-" + currentStep());
    if (event.target.closest && event.target.closest("[data-dg-follow] button")) {
      setFollowing(true);
      showCurrentStep();
    }
  });

  var shownStep = currentStep();
  function afterPatch() {
    var step = currentStep();
    // After a fetch of the steps' heads only, the steps themselves still carry the old mark.
    if (step) {
      document.querySelectorAll(".dg-step[id^='step-']").forEach(function (section) {
        section.classList.toggle("dg-step--current", section.id === "step-" + step);
      });
    }
    if (step && step !== shownStep) {
      shownStep = step;
      lastRemaining = null;
      if (following) showCurrentStep();
    }
  }

  // --- the step timer: counts down locally between updates from the server ------------------

  var lastRemaining = null;

  function formatClock(seconds) {
    var sign = seconds < 0 ? "+" : "";
    var value = Math.abs(seconds);
    var rest = value % 60;
    return sign + Math.floor(value / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function tick() {
    var timer = document.querySelector("[data-dg-timer]");
    if (!timer) return;
    if (!timer.dgStartedAt) {
      timer.dgStartedAt = Date.now();
      timer.dgRemaining = Number(timer.getAttribute("data-remaining")) || 0;
    }
    var running = timer.getAttribute("data-running") === "1";
    var remaining = timer.dgRemaining;
    if (running) remaining -= Math.floor((Date.now() - timer.dgStartedAt) / 1000);
    var clock = timer.querySelector("[data-dg-clock]");
    if (clock) clock.textContent = formatClock(remaining);
    var announce = timer.querySelector("[data-dg-timer-announce]");
    // Only the last minute is announced: a ticking clock read aloud would drown the talk.
    if (running && announce && lastRemaining !== null) {
      if (lastRemaining > 60 && remaining <= 60 && remaining > 0) {
        announce.textContent = announce.getAttribute("data-label-minute");
      } else if (lastRemaining > 0 && remaining <= 0) {
        announce.textContent = announce.getAttribute("data-label-up");
        timer.classList.add("dg-timer--over");
        var state = timer.querySelector("[data-dg-timer-state]");
        if (state) state.textContent = state.getAttribute("data-label-over");
      }
    }
    lastRemaining = remaining;
  }

  window.setInterval(tick, 1000);

  // Leaving the page (a link, the status buttons, closing the tab) would throw away text that
  // is typed but not saved, or saved but not yet acknowledged: the browser asks first.
  window.addEventListener("beforeunload", function (event) {
    var unsaved = pending.length || Object.keys(saving).length ||
      Array.prototype.some.call(root.querySelectorAll("form"), isDirty);
    if (!unsaved) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers ask only when this is set
  });
  window.addEventListener("offline", function () { setStatus("offline"); });
  window.addEventListener("online", function () {
    // Back online: ask again for what we missed (the answer resends unsent forms), or
    // reconnect at once instead of waiting for the back-off.
    attempt = 0;
    if (socket && socket.readyState === 1) {
      socket.send(JSON.stringify({ type: "hello", last_seq: seq }));
    } else if (!socket) {
      connect();
    }
  });
  connect();
})();
