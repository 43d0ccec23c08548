// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Tags as chips: <input data-chips name="tags" value="a, b"> becomes removable chips plus a text box.
  // The original input stays in the form (hidden) and always holds the comma-separated value.
  function enhanceChips(input) {
    if (input.dataset.chipsReady) return;
    input.dataset.chipsReady = "1";
    const box = document.createElement("div");
    box.className = "chips-input";
    const entry = document.createElement("input");
    entry.type = "text";
    entry.placeholder = input.placeholder || "Add a tag and press Enter";
    // The box typed in takes over the field's label, hint and error (the input itself is hidden):
    // clicking the label reaches it, a screen reader says them there, and a 422 focuses it.
    const label = input.id && document.querySelector(`label[for="${CSS.escape(input.id)}"]`);
    if (label) {
      entry.id = input.id + "-entry";
      label.htmlFor = entry.id;
    } else {
      entry.setAttribute("aria-label", input.getAttribute("aria-label") || "Add a tag");
    }
    ["aria-describedby", "aria-invalid"].forEach((name) => {
      if (input.hasAttribute(name)) { entry.setAttribute(name, input.getAttribute(name)); input.removeAttribute(name); }
    });
    input.type = "hidden";
    input.after(box);
    const tags = () => input.value.split(",").map((t) => t.trim()).filter(Boolean);
    let shown = input.value;
    function render() {
      // A hidden input fires no events of its own: tell listeners (live counts, previews) it changed.
      if (input.value !== shown) { shown = input.value; input.dispatchEvent(new Event("change", { bubbles: true })); }
      box.querySelectorAll(".chip").forEach((c) => c.remove());
      tags().forEach((tag) => {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.textContent = tag;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "×";
        remove.setAttribute("aria-label", "Remove tag " + tag);
        remove.addEventListener("click", () => {
          input.value = tags().filter((t) => t !== tag).join(", ");
          render();
          entry.focus();  // the button is gone: the keyboard goes on from the box, not the page's top
        });
        chip.append(remove);
        box.insertBefore(chip, entry);
      });
    }
    function commit() {
      // "spring, sale" typed or pasted is two tags, as a comma ends a tag while typing
      const typed = entry.value.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean);
      const added = typed.filter((t, i) => !tags().includes(t) && typed.indexOf(t) === i);
      entry.value = "";
      if (!added.length) return;  // nothing new: the chips stay, and so does focus on one of them
      input.value = tags().concat(added).join(", ");
      render();
    }
    entry.addEventListener("keydown", (e) => {
      // Enter in an empty box submits the form, as in any other field; with a tag typed, it adds the tag.
      if (e.key === "Enter" && !entry.value.trim()) return;
      if (e.key === "Enter" || e.key === ",") { e.preventDefault(); commit(); }
      else if (e.key === "Backspace" && !entry.value && tags().length) {
        input.value = tags().slice(0, -1).join(", "); render();
      }
    });
    entry.addEventListener("blur", commit);
    box.append(entry);
    render();
  }

  // Escape closes the phone menu (a <details>) from anywhere in it, and the keyboard goes on from its button.
  document.addEventListener("keydown", (e) => {
    const menu = e.key === "Escape" && e.target.closest && e.target.closest("details.menu[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  // "Select all" checkbox for bulk actions: <input type=checkbox data-select-all="ids">
  document.addEventListener("change", (e) => {
    const name = e.target.dataset && e.target.dataset.selectAll;
    if (!name) return;
    document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => { box.checked = e.target.checked; });
  });

  // Remove buttons: <button data-remove-closest=".row"> removes the enclosing .row (e.g. a custom field).
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-remove-closest]");
    const target = button && button.closest(button.dataset.removeClosest);
    if (target) target.remove();
  });

  // Copy buttons: <button data-copy="#snippet"> copies that field's text; [data-copy-status] says so.
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const status = button.parentElement.querySelector("[data-copy-status]");
    const done = (message) => { if (status) status.textContent = message; };
    const fallback = () => { source.select(); done(document.execCommand("copy") ? "Copied." : "Press Ctrl+C to copy."); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(() => done("Copied."), fallback);
    } else {
      fallback();
    }
  });

  // "Export CSV" on the contacts page exports what the filters show now (they change without a reload):
  // <a data-export-form="form-id" href="/contacts/export?...">
  document.addEventListener("click", (e) => {
    const link = e.target.closest && e.target.closest("a[data-export-form]");
    const form = link && document.getElementById(link.dataset.exportForm);
    if (!form) return;
    const params = new URLSearchParams();
    new FormData(form).forEach((value, key) => { if (value && key !== "cursor") params.append(key, value); });
    link.href = link.pathname + (params.toString() ? "?" + params.toString() : "");
  });

  // <select data-browser-zone> (a schedule's time zone, none chosen yet) starts at the browser's zone.
  // Browsers name some zones by what they were called before a rename (ICU's canonical names), which
  // the tz database keeps only as aliases: the current name is shown when the list has it.
  const RENAMED_ZONES = {
    "Asia/Calcutta": "Asia/Kolkata", "Asia/Katmandu": "Asia/Kathmandu", "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Rangoon": "Asia/Yangon", "Asia/Dacca": "Asia/Dhaka", "Asia/Thimbu": "Asia/Thimphu",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar", "Europe/Kiev": "Europe/Kyiv", "Atlantic/Faeroe": "Atlantic/Faroe",
    "America/Godthab": "America/Nuuk", "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Indianapolis": "America/Indiana/Indianapolis", "America/Louisville": "America/Kentucky/Louisville",
    "Pacific/Enderbury": "Pacific/Kanton",
  };
  function preselectZone(select) {
    const zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    const offered = (name) => name && Array.from(select.options).some((o) => o.value === name);
    const shown = [RENAMED_ZONES[zone], zone].find(offered);
    if (shown) select.value = shown;
  }

  // A field checked as you type (hx-post on the field itself) answers with its `<id>-error` message
  // or without one: mark the field invalid while its error is shown, as the server does on a 422.
  document.addEventListener("htmx:afterSettle", (e) => {
    const field = e.detail.requestConfig && e.detail.requestConfig.elt;
    const described = field && field.matches && field.matches("input, textarea") && field.getAttribute("aria-describedby");
    const errors = described ? described.split(/\s+/).filter((id) => id.endsWith("-error")) : [];
    if (!errors.length) return;
    const shown = errors.some((id) => { const error = document.getElementById(id); return error && error.textContent.trim(); });
    if (shown) field.setAttribute("aria-invalid", "true"); else field.removeAttribute("aria-invalid");
  });

  // A whole page swapped in starts from the top, like a page load: htmx does that for boosted links
  // and forms, but not for the page HX-Location brings after a form is saved, which kept the
  // scroll position of the form (on a phone, the new page's bottom).
  document.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target === document.body && !location.hash) window.scrollTo(0, 0);
  });

  // Focus after a partial update. htmx itself focuses an [autofocus] element of the new content (the
  // segment builder marks its new row that way) and a focused control drawn again with the same id.
  // On top of that: a form sent back with its mistakes marked (422) puts focus on the first field in
  // error (marked aria-invalid, or the first of a group in error such as the contact form's custom
  // fields); and when a swap took away the focused element (a pager link), focus goes to the element
  // the new content marks with data-focus-after-swap (a results heading, tabindex=-1), or else to its
  // table (a scrolling region, named and focusable), scrolled into view. Otherwise focus stays where
  // it is (a search box being typed in).
  const controls = "input:not([type=hidden]), select, textarea";
  const inError = `[aria-invalid="true"], .invalid :is(${controls})`;
  document.addEventListener("htmx:afterSettle", (e) => {
    const content = e.target;
    const first = (selector) => (content.matches(selector) ? content : content.querySelector(selector));
    const refused = e.detail.xhr && e.detail.xhr.status === 422;
    const lost = !document.activeElement || document.activeElement === document.body;
    const whole = content === document.body;
    // A whole new page with focus gone (its pager link, or the form's button, went with the old
    // page) goes on from its main content, where Tab would be after a skip link: else the browser
    // went on from where the old element was, often past the end of the page.
    const main = whole && document.getElementById("main");
    const landing = first("[data-focus-after-swap]") || first('[role="region"][tabindex]');
    // A group in error (a fieldset of checkboxes) takes focus on its first control, unless it can hold focus itself.
    const wrong = refused && first(inError);
    const control = wrong && wrong.matches("fieldset:not([tabindex])") ? wrong.querySelector(controls) : wrong;
    const next = control || (lost && (main || landing));
    if (next) queueMicrotask(() => next.focus({ preventScroll: next === main }));  // after the scroll to the top
  });

  // An error message swapped in on its own (hx-swap-oob: the segment builder's row errors, as a
  // count comes back) marks the controls it describes as invalid while it says something, and no
  // longer once it is empty: else a fixed value was still announced as invalid.
  document.addEventListener("htmx:oobAfterSwap", (e) => {
    const message = e.target;  // the element swapped in (detail.target is the one it replaced)
    if (!(message instanceof Element) || !message.id || !message.classList.contains("field-error")) return;
    const wrong = message.textContent.trim() !== "";
    document.querySelectorAll(`[aria-describedby~="${CSS.escape(message.id)}"]`).forEach((control) => {
      if (wrong) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    });
  });

  // Live regions that stay while the page changes around them (<div id=flashes hx-preserve aria-live>):
  // htmx keeps the element when the next page comes in, and here it takes that page's contents just
  // before, so screen readers say them (a replaced region is often not read at all).
  document.addEventListener("htmx:beforeSwap", (e) => {
    const kept = document.querySelectorAll("[hx-preserve][aria-live][id]");
    if (!e.detail.shouldSwap || !kept.length) return;
    const incoming = new DOMParser().parseFromString(e.detail.serverResponse, "text/html");
    kept.forEach((region) => {
      const fresh = incoming.getElementById(region.id);
      if (fresh) region.replaceChildren(...fresh.childNodes);
    });
  });

  // A plain form (boosted: htmx sends it and swaps in the page that answers) is sent once per press.
  // A double click queued a second submission, which htmx sends the moment the first is answered
  // (before the page it points to has loaded): a second "Start import" (409), a bulk action applied
  // twice. So the form refuses to send while it is sending and until that answer is handled; a form
  // still there afterwards (kept by hx-preserve, or when the request failed) can be sent again.
  const boostedForm = (e) => e.detail.boosted && e.detail.elt instanceof HTMLFormElement
    && e.detail.requestConfig && e.detail.requestConfig.verb !== "get";
  document.addEventListener("htmx:beforeRequest", (e) => {
    if (!boostedForm(e)) return;
    const form = e.detail.elt;
    if (form.dataset.sending) e.preventDefault(); else form.dataset.sending = "true";
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    if (!boostedForm(e)) return;
    const form = e.detail.elt;
    setTimeout(() => { delete form.dataset.sending; });  // after htmx has sent (and so refused) any queued one
  });

  function enhance(root) {
    root.querySelectorAll("input[data-chips]").forEach(enhanceChips);
    root.querySelectorAll("select[data-browser-zone]").forEach(preselectZone);
  }
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:load", (e) => enhance(e.target));
})();
