// The web chat: posts to the gateway's REST webhook and shows the replies as plain text.
(function () {
  "use strict";
  var KEY = "billbot-session";
  var session = sessionStorage.getItem(KEY);
  if (!session) {
    session = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(16).slice(2);
    sessionStorage.setItem(KEY, session);
  }
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var button = form.querySelector("button");

  // Text nodes only, never parsed as HTML; web links become anchors.
  function add(kind, text) {
    var li = document.createElement("li");
    li.className = kind;
    text.split(/(https?:\/\/[^\s]+)/).forEach(function (piece, i) {
      if (i % 2 === 1) {
        var a = document.createElement("a");
        a.href = piece; a.textContent = piece; a.target = "_blank"; a.rel = "noopener noreferrer";
        li.appendChild(a);
      } else if (piece) {
        li.appendChild(document.createTextNode(piece));
      }
    });
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    add("me", text);
    input.value = "";
    button.disabled = true;
    fetch("/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: session, message: text })
    }).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (r) {
      if (!r.ok) { add("error", r.body.error || "Something went wrong. Please try again."); return; }
      r.body.forEach(function (m) { add("bot", m.text); });
    }).catch(function () {
      add("error", "We could not reach the assistant. Please try again or call us.");
    }).finally(function () {
      button.disabled = false;
      input.focus();
    });
  });
  input.focus();
})();
