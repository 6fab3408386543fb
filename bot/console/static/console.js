// Live updates: the page names its event stream in <body data-live>; on each event the
// element with data-fragment is refreshed from the server, keeping whatever is being typed.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live");
  var target = document.querySelector("[data-fragment]");
  if (!url || !target || !window.EventSource) { return; }
  function refresh() {
    fetch(target.getAttribute("data-fragment"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        target.innerHTML = html;
        var list = target.querySelector(".transcript");
        if (list) { list.scrollTop = list.scrollHeight; }
        document.body.setAttribute("data-refreshed", String(Date.now()));
      });
  }
  var source = new EventSource(url, { withCredentials: true });
  source.addEventListener("queue", refresh);
  source.addEventListener("transcript", refresh);
  var list = target.querySelector(".transcript");
  if (list) { list.scrollTop = list.scrollHeight; }
})();
