"use strict";
// The IPR list refreshes its counts, rows and pages when the server says the
// IPRs changed (server-sent events), keeping the tab, filters and page.
(function () {
  const live = document.querySelector("[data-live]");
  if (!live || !window.EventSource || !window.fetch) {
    return;
  }
  const source = new EventSource(live.dataset.live);
  source.addEventListener("changed", async function () {
    const response = await fetch(window.location.href, {credentials: "same-origin"});
    if (!response.ok) {
      return;
    }
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["ipr-counts", "ipr-table", "ipr-pages"]) {
      const old = document.getElementById(id);
      const replacement = fresh.getElementById(id);
      if (old && replacement) {
        old.replaceWith(document.importNode(replacement, true));
      }
    }
  });
})();
