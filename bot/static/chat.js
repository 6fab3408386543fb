// The web chat: posts to the gateway's REST webhook, shows the replies as plain text, and
// polls for what was sent to this session since (a representative's replies), each once.
(function () {
  "use strict";
  var KEY = "billbot-session";
  var LAST_KEY = "billbot-last-id";
  var POLL_MS = 3000;
  // The words come from the page (the catalogue, clinic/wording), never from this file.
  var WORDS = document.querySelector("main.chat").dataset;
  // The session id is the only secret between this page and its messages: it comes from
  // the browser's cryptographic generator (crypto.randomUUID or crypto.getRandomValues).
  var SESSION_FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  function randomSession() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(b, function (x) {
      return (x + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  var session = sessionStorage.getItem(KEY);
  if (!session || !SESSION_FORMAT.test(session)) {
    session = randomSession();
    sessionStorage.setItem(KEY, session);
    sessionStorage.removeItem(LAST_KEY);
  }
  // The newest message id shown; after a reload only newer messages are fetched.
  var lastId = parseInt(sessionStorage.getItem(LAST_KEY) || "0", 10) || 0;
  var shown = {};
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var button = form.querySelector("button");
  var polling = false;

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

  // A reply arrives from the POST or from the poll, whichever is first; its id shows it once.
  function addReply(m) {
    if (typeof m.id === "number") {
      if (shown[m.id]) return;
      shown[m.id] = true;
      if (m.id > lastId) {
        lastId = m.id;
        sessionStorage.setItem(LAST_KEY, String(lastId));
      }
    }
    add("bot", m.text);
  }

  function poll() {
    if (polling || document.hidden) return;
    polling = true;
    fetch("/webhooks/rest/messages?sender=" + encodeURIComponent(session) +
      "&after=" + encodeURIComponent(String(lastId)), { cache: "no-store" })
      .then(function (resp) { return resp.ok ? resp.json() : []; })
      .then(function (messages) { messages.forEach(addReply); })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { polling = false; });
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
      if (!r.ok && Array.isArray(r.body)) { // over a limit (429): the assistant's own words
        r.body.forEach(function (m) { add("error", m.text); });
        return;
      }
      if (!r.ok) { add("error", r.body.error || WORDS.error); return; }
      r.body.forEach(addReply);
    }).catch(function () {
      add("error", WORDS.unreachable);
    }).finally(function () {
      button.disabled = false;
      input.focus();
    });
  });
  setInterval(poll, POLL_MS);
  input.focus();
})();
