// The campaign page's live progress (htmx's sse extension) says when its connection is lost, and
// hides that once it is back: the server then sends the campaign as it is now, so the page catches up.
(function () {
  "use strict";
  if (window.mailroomLiveStatus) return; // a boosted navigation runs this file again
  window.mailroomLiveStatus = true;

  function show(event, state) {
    const page = event.target.closest("[sse-connect]");
    if (!page) return;
    page.dataset.live = state;
    const note = page.querySelector("[data-live-lost]");
    if (note) note.hidden = state !== "lost";
  }

  // Screen readers hear the progress that sighted people watch: each quarter sent, and every change
  // of state (paused, finished, cancelled) in the words the page shows. Not every update: a polite
  // region read every second would drown everything else.
  let heard = null;
  document.addEventListener("htmx:afterSettle", () => {
    const card = document.querySelector(".progress-card[data-status]");
    const announcer = document.querySelector("[data-live-announcer]");
    if (!card || !announcer) return;
    const status = card.dataset.status;
    const quarter = Math.floor(parseFloat(card.dataset.percent) / 25);
    if (heard && heard.announcer === announcer) {
      const note = card.querySelector(".progress-note");
      if (status !== heard.status && note) announcer.textContent = note.textContent.replace(/\s+/g, " ").trim();
      else if (status === "sending" && quarter > heard.quarter && quarter < 4) {
        announcer.textContent = `${quarter * 25} % sent.`;
      }
    }
    heard = { announcer, status, quarter };
  });

  document.addEventListener("htmx:sseOpen", (event) => show(event, "connected"));
  document.addEventListener("htmx:sseError", (event) => show(event, "lost"));
  document.addEventListener("htmx:sseClose", (event) => show(event, "closed"));
})();
