// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the error summary so screen reader and keyboard users land on the errors first.
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
});

// K46: warn before leaving a form with unsaved changes (the browser's own dialog).
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-warn-unsaved]")) {
    let dirty = false;
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("change", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (event) => {
      if (dirty) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }
});
