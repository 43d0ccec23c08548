// Template editor enhancements: line numbers and Tab indenting in <textarea data-code>, buttons that
// insert a variable or an image (from the picker dialog) at the cursor, and Enter in the test-send
// box sending the test. The editor works
// without this file; it may be loaded more than once (hx-boost), so it sets itself up only once.
(function () {
  "use strict";
  if (window.mailroomEditor) return;
  window.mailroomEditor = true;

  const INDENT = "  ";

  function changed(textarea) {
    // Tell the gutter and the live preview (hx-trigger "change") that the text changed.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function numberLines(textarea, gutter) {
    const lines = textarea.value.split("\n").length;
    if (gutter.childElementCount === lines) return;
    gutter.textContent = "";
    for (let i = 1; i <= lines; i++) {
      const line = document.createElement("span");
      line.textContent = i;
      gutter.append(line);
    }
  }

  // Mark the line a syntax error names ("Line N: ...", shown in #<id>-error) in the gutter.
  function markError(textarea) {
    const gutter = textarea.parentElement.querySelector(".code-gutter");
    const error = document.getElementById(textarea.id + "-error");
    if (!gutter || !error) return;
    const match = /^Line (\d+):/.exec(error.textContent.trim());
    gutter.querySelectorAll(".error-line").forEach((line) => line.classList.remove("error-line"));
    const line = match && gutter.children[Number(match[1]) - 1];
    if (line) line.classList.add("error-line");
  }

  function enhanceCode(textarea) {
    if (textarea.dataset.codeReady) return;
    textarea.dataset.codeReady = "1";
    const wrap = document.createElement("div");
    wrap.className = "code-editor";
    const gutter = document.createElement("div");
    gutter.className = "code-gutter";
    gutter.setAttribute("aria-hidden", "true");
    textarea.before(wrap);
    wrap.append(gutter, textarea);
    numberLines(textarea, gutter);
    markError(textarea);
    textarea.addEventListener("input", () => { numberLines(textarea, gutter); markError(textarea); });
    textarea.addEventListener("scroll", () => { gutter.scrollTop = textarea.scrollTop; });
    let escaped = false;  // Esc then Tab leaves the editor, so keyboard users are never trapped
    textarea.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { escaped = true; return; }
      if (e.key !== "Tab" || escaped || textarea.readOnly) { escaped = false; return; }
      e.preventDefault();
      const { selectionStart: start, selectionEnd: end, value } = textarea;
      const lineStart = value.lastIndexOf("\n", start - 1) + 1;
      if (e.shiftKey) {
        if (value.startsWith(INDENT, lineStart)) {
          textarea.setRangeText("", lineStart, lineStart + INDENT.length, "preserve");
          textarea.setSelectionRange(Math.max(lineStart, start - INDENT.length), Math.max(lineStart, end - INDENT.length));
        }
      } else {
        textarea.setRangeText(INDENT, start, end, "end");
      }
      changed(textarea);
    });
  }

  // A dialog (the image picker) opens with its button and closes with its own, or once it inserted.
  document.addEventListener("click", (e) => {
    const opener = e.target.closest("button[data-opens]");
    const dialog = opener && document.getElementById(opener.dataset.opens);
    if (dialog && !dialog.open) dialog.showModal();
    const closer = e.target.closest("button[data-closes]");
    if (closer) closer.closest("dialog").close();
  });

  document.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-insert]");
    if (!button) return;
    // Into the first of its textareas that is shown (the content's format hides the other).
    const textarea = button.dataset.into.split(" ").map((id) => document.getElementById(id))
      .find((t) => t && t.getClientRects().length);
    if (!textarea || textarea.readOnly) return;
    const dialog = button.closest("dialog");
    if (dialog) dialog.close();  // before focusing: closing gives focus back to the button that opened it
    textarea.focus();
    textarea.setRangeText(button.dataset.insert, textarea.selectionStart, textarea.selectionEnd, "end");
    changed(textarea);
  });

  document.addEventListener("keydown", (e) => {
    const wants = e.key === "Enter" && e.target.dataset;
    if (!wants || !(wants.enterClicks || "enterRefreshes" in wants)) return;
    e.preventDefault();  // otherwise Enter would submit the form with its first button (Save)
    if ("enterRefreshes" in wants) {  // the field's own request again (the preview's contact)
      htmx.trigger(e.target, "change");
      return;
    }
    const button = document.getElementById(wants.enterClicks);
    if (button) button.click();
  });

  function enhance(root) {
    root.querySelectorAll("textarea[data-code]").forEach(enhanceCode);
    root.querySelectorAll(".var-bar[hidden]").forEach((bar) => { bar.hidden = false; });
    root.querySelectorAll(".js-only").forEach((el) => { el.classList.remove("js-only"); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => enhance(document));
  else enhance(document);
  document.addEventListener("htmx:load", (e) => enhance(e.target));
  // The preview answers with the fields' error lines out of band; re-mark after every swap.
  document.addEventListener("htmx:afterSettle", () => {
    document.querySelectorAll("textarea[data-code][data-code-ready]").forEach(markError);
  });
})();
