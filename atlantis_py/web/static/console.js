"use strict";
// A list (the IPRs, the jobs) refreshes its counts, rows and pages when the
// server says it changed (server-sent events), keeping the tab, filters and page.
// The parts to swap are named by the element's data-parts (the IPR list's by default).
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
    const parts = (live.dataset.parts || "ipr-counts ipr-table ipr-pages").split(" ");
    for (const id of parts) {
      const old = document.getElementById(id);
      const replacement = fresh.getElementById(id);
      if (old && replacement) {
        old.replaceWith(document.importNode(replacement, true));
      }
    }
  });
})();
