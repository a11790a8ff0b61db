// Helsinki-lisä wizard, progressive enhancement only: the pages work without this file.
// Fields that matter only after a certain answer ("If yes, describe ...") are hidden until the
// answer is given. Without JavaScript they are always shown, and the server ignores them.
document.addEventListener("DOMContentLoaded", () => {
  for (const block of document.querySelectorAll("[data-reveal-when]")) {
    const [name, wanted] = block.dataset.revealWhen.split("=");
    const form = block.closest("form");
    if (!form) continue;
    const inputs = form.querySelectorAll(`input[name="${name}"]`);
    const update = () => {
      let shown = false;
      for (const input of inputs) {
        if (input.checked && input.value === wanted) shown = true;
      }
      // Never hide a block that holds an error message: the person must see what to fix.
      if (block.querySelector("[aria-invalid=true], .error-text")) shown = true;
      block.hidden = !shown;
    };
    for (const input of inputs) input.addEventListener("change", update);
    update();
  }
});
