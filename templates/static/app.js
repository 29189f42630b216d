// handover web app: progressive enhancement over server-rendered pages. Every form also
// works without this script (it posts and redirects); the script adds drag and drop with
// upload progress, live processing status, the player, and decisions without a reload.
// DOM text is only ever set with textContent: nothing from the server becomes markup.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function clock(seconds) {
    var s = Math.max(0, Math.round(seconds || 0));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(r).padStart(2, "0");
  }
  // The session's CSRF token: every POST sends it back (the server refuses one without).
  function csrfToken() {
    var meta = $("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }
  // The session ended (signed out elsewhere, expired): sign in again and come back.
  function signInAgain() {
    location.assign("/signin?" + new URLSearchParams({ next: location.pathname + location.search }));
  }
  function flash(text, isError) {
    var box = $(".flash");
    if (!box) {
      box = el("p", "flash");
      box.setAttribute("role", "status");
      var main = $("main");
      main.parentNode.insertBefore(box, main);
    }
    box.textContent = text;
    box.classList.toggle("error", !!isError);
  }
  function postForm(form, extra) {
    var data = new FormData(form);
    Object.keys(extra || {}).forEach(function (key) { data.set(key, extra[key]); });
    return fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 401) { signInAgain(); }
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { throw new Error(body.error || ("the server answered " + response.status)); }
        return body;
      });
    });
  }

  // -- the player: one <audio> per page, ▶ buttons seek it (HTTP range requests) ---------
  function play(src, start) {
    var audio = $("#player");
    if (!audio) { return; }
    audio.hidden = false;
    var target = new URL(src, location.href).href;
    function seek() {
      audio.currentTime = start;
      var started = audio.play();
      if (started && started.catch) { started.catch(function () {}); }
    }
    if (audio.currentSrc !== target && audio.src !== target) {
      audio.src = target;
      audio.addEventListener("loadedmetadata", seek, { once: true });
      audio.load();
    } else if (audio.readyState >= 1) {
      seek();
    } else {
      audio.addEventListener("loadedmetadata", seek, { once: true });
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.play, button.seek");
    if (!button) { return; }
    var start = parseFloat(button.dataset.start || "0");
    if (button.classList.contains("seek")) {
      var sides = $("#sides");
      if (sides) {
        var from = sides.elements.namedItem("from"), to = sides.elements.namedItem("to");
        if (!from.value || (from.value && to.value)) { from.value = clock(start); to.value = ""; }
        else { to.value = clock(parseFloat(button.dataset.end || button.dataset.start)); }
      }
    }
    if (button.dataset.src) { play(button.dataset.src, start); }
  });

  // -- uploads: each file is its own request, so each gets its own progress bar ---------
  var zone = $("#upload");
  function uploadOne(file, list) {
    var row = el("li");
    var name = el("span", "name", file.name);
    var bar = el("progress");
    bar.max = 1; bar.value = 0;
    var state = el("span", "state", "uploading");
    row.append(name, bar, state);
    list.append(row);
    var max = parseInt(zone.dataset.maxBytes, 10);
    if (file.size === 0 || file.size > max) {
      row.classList.add("failed");
      bar.remove();
      state.textContent = file.size === 0 ? "the file is empty" : "over the upload cap; split it";
      return Promise.resolve();
    }
    var params = new URLSearchParams({
      name: file.name,
      kind: zone.elements.namedItem("kind").value,
      date: zone.elements.namedItem("date").value
    });
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", zone.getAttribute("action") + "?" + params.toString());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = e.loaded / e.total;
          state.textContent = "uploading " + Math.round(100 * e.loaded / e.total) + "%";
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 401) { signInAgain(); }
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 1;
          state.textContent = "source " + body.source.id + ": " + body.message;
        } else {
          row.classList.add("failed");
          state.textContent = body.error || ("refused (HTTP " + xhr.status + ")");
        }
        resolve();
        refreshSources();
      });
      xhr.addEventListener("error", function () {
        row.classList.add("failed");
        state.textContent = "the upload broke off; check the connection and drop the file again";
        resolve();
      });
      xhr.send(file);
    });
  }
  function uploadAll(files) {
    var list = $(".uploads", zone);
    // One after another: the server checks each file fully, and a two-hour recording
    // should not hold up the small notes dropped with it.
    Array.prototype.slice.call(files).reduce(function (chain, file) {
      return chain.then(function () { return uploadOne(file, list); });
    }, Promise.resolve());
  }
  if (zone) {
    var picker = $("input[type=file]", zone);
    picker.addEventListener("change", function () { uploadAll(picker.files); picker.value = ""; });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { uploadAll(e.dataTransfer.files); });
    zone.addEventListener("submit", function (e) { e.preventDefault(); });
  }

  // -- live processing status: poll the sources while any has work left ----------------
  var table = $("#sources");
  var timer = null;
  function stageText(source) {
    if (source.stage === "transcribing") { return "transcribing " + Math.round(100 * source.progress) + "%"; }
    return source.stage;
  }
  function sourceRow(source) {
    var slug = table.dataset.deal;
    var tr = el("tr");
    tr.dataset.source = source.id;
    tr.dataset.stage = source.stage;
    tr.append(el("td", "num", source.id));
    var title = el("td");
    var link = el("a", null, source.title);
    link.href = "/deals/" + slug + "/sources/" + source.id;
    title.append(link, el("br"), el("span", "muted", source.filename));
    tr.append(title, el("td", null, source.kind), el("td", null, source.meeting_date));
    var stage = el("td", "stage");
    stage.append(el("span", "stage-label st-" + source.stage, stageText(source)));
    if (source.stage === "transcribing") {
      var bar = el("progress");
      bar.max = 1; bar.value = source.progress;
      stage.append(bar);
    }
    if (source.error) { stage.append(el("p", "error small", source.error)); }
    if (source.stage === "failed") {
      var form = el("form");
      form.method = "post";
      form.action = "/deals/" + slug + "/sources/" + source.id + "/retry";
      var token = el("input");
      token.type = "hidden"; token.name = "csrf"; token.value = csrfToken();
      form.append(token, el("button", null, "Retry"));
      stage.append(form);
    }
    tr.append(stage);
    return tr;
  }
  function refreshSources() {
    if (!table) { return; }
    fetch(table.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { signInAgain(); throw new Error("signed out"); }
        return r.json();
      })
      .then(function (doc) {
        var body = $("tbody", table);
        body.replaceChildren.apply(body, doc.sources.map(sourceRow));
        var busy = doc.sources.some(function (s) { return s.stage !== "done" && s.stage !== "failed"; });
        clearTimeout(timer);
        timer = setTimeout(refreshSources, busy ? 1000 : 5000);
      })
      .catch(function () { clearTimeout(timer); timer = setTimeout(refreshSources, 5000); });
  }
  if (table) { timer = setTimeout(refreshSources, 1000); }

  // -- decisions: saved at once, the item updated in place -------------------------------
  function showItem(article, item) {
    article.dataset.status = item.status;
    var badge = $(".status-badge", article);
    badge.textContent = item.status.charAt(0).toUpperCase() + item.status.slice(1);
    badge.className = "badge status-badge s-" + item.status;
    var history = $(".history", article);
    history.replaceChildren.apply(history, item.history.map(function (d) {
      var li = el("li");
      li.append(el("strong", null, d.decision.replace(/-/g, " ")));
      var text = (d.clause_id !== null ? " (clause #" + d.clause_id + ")" : "") + " by " + d.by + ", " + d.at;
      li.append(document.createTextNode(text + (d.note ? ": " + d.note : "")));
      return li;
    }));
    var buttons = $(".buttons", article);
    if (item.decision && !$("button.reopen", buttons)) {
      var reopen = el("button", "reopen", "Reopen");
      reopen.type = "submit"; reopen.name = "decision"; reopen.value = "reopen";
      buttons.append(reopen);
    }
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("decide")) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    var article = form.closest("article.item");
    postForm(form, { decision: submitter ? submitter.value : "" })
      .then(function (body) {
        showItem(article, body.item);
        form.elements.namedItem("note").value = "";
        flash(body.message);
      })
      .catch(function (err) { flash(err.message, true); });
  });

  // -- the clause picker ------------------------------------------------------------------
  var dialog = $("#clause-picker");
  var pickingFor = null;
  if (dialog) {
    var search = $(".clause-search", dialog);
    document.addEventListener("click", function (event) {
      var open = event.target.closest("button.pick-clause");
      if (open) {
        pickingFor = open.closest("form");
        search.value = "";
        filterClauses("");
        dialog.showModal();
        search.focus();
        return;
      }
      var choice = event.target.closest("button.clause-choice");
      if (choice && pickingFor) {
        pickingFor.elements.namedItem("clause_id").value = choice.dataset.id;
        dialog.close();
        var link = $("button[value=linked]", pickingFor);
        pickingFor.requestSubmit(link);
      }
    });
    function filterClauses(text) {
      var words = text.toLowerCase().split(/\s+/).filter(Boolean);
      $all("li", $(".clause-list", dialog)).forEach(function (li) {
        var haystack = li.textContent.toLowerCase();
        li.hidden = !words.every(function (w) { return haystack.indexOf(w) >= 0; });
      });
    }
    search.addEventListener("input", function () { filterClauses(search.value); });
  }

  // -- filters apply as they change -------------------------------------------------------
  var filters = $("form.filters");
  if (filters) {
    filters.addEventListener("change", function () { filters.requestSubmit(); });
  }
})();
