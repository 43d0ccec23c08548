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

  document.addEventListener("htmx:sseOpen", (event) => show(event, "connected"));
  document.addEventListener("htmx:sseError", (event) => show(event, "lost"));
  document.addEventListener("htmx:sseClose", (event) => show(event, "closed"));
})();
