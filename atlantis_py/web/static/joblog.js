"use strict";
// A running job's log grows as the server sends its lines (server-sent events);
// the page already holds the lines stored when it was made.
(function () {
  const log = document.getElementById("job-log");
  if (!log || !log.dataset.stream || !window.EventSource) {
    return;
  }
  const after = encodeURIComponent(log.dataset.after || "0");
  const source = new EventSource(log.dataset.stream + "?after=" + after);
  source.onmessage = function (event) {
    const following = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.appendChild(document.createTextNode(event.data + "\n"));
    if (following) {
      log.scrollTop = log.scrollHeight;
    }
  };
  source.addEventListener("end", function (event) {
    source.close();
    const state = document.getElementById("job-state");
    if (state) {
      state.textContent = event.data;
      state.className = "state job-" + event.data;
    }
  });
})();
