// The Helsinki benefit estimate, live: progressive enhancement of /subsidies/estimate.
// Without this file the form posts and the page shows the result. With it, the result follows
// the form as the user types: the same fields go to the JSON API (POST /api/v1/subsidies/estimate)
// a moment after the last change. Only text content is written (no innerHTML), and the page's
// Content-Security-Policy allows this file only as a file.
(() => {
  "use strict";

  const ROWS = {
    pay_subsidies: ["start_date", "end_date", "pay_subsidy_percent", "work_time_percent"],
    training_compensations: ["start_date", "end_date", "monthly_amount"],
  };
  const FIELDS = [
    "benefit_type", "start_date", "end_date", "monthly_pay", "indirect_labour_costs",
    "vacation_money", "state_aid_max_percentage",
  ];
  const DELAY_MS = 500;

  // Numbers the Finnish way, as the server writes them in every language: 1 600,00 €, 2,03, 1.9.2023.
  function groupDigits(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
  }
  function number(text) {
    const [whole, fraction] = String(text).split(".");
    const sign = whole.startsWith("-") ? "-" : "";
    const grouped = groupDigits(whole.replace("-", ""));
    return sign + grouped + (fraction !== undefined ? "," + fraction : "");
  }
  function euros(text) {
    return number(text) + "\u00a0€";
  }
  function day(iso) {
    const [year, month, date] = iso.split("-").map((part) => parseInt(part, 10));
    return `${date}.${month}.${year}`;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }
  function fill(tbody, items, columns) {
    tbody.replaceChildren();
    items.forEach((item, index) => {
      const row = document.createElement("tr");
      for (const column of columns) cell(row, column(item, index));
      tbody.appendChild(row);
    });
  }

  function payload(form) {
    const value = (name) => {
      const field = form.elements.namedItem(name);
      if (!field) return "";
      if (field instanceof RadioNodeList) return field.value.trim();
      if (field.type === "checkbox") return field.checked;
      return field.value.trim();
    };
    const body = {};
    for (const name of FIELDS) {
      const text = value(name);
      if (text === "") continue;
      body[name] = name === "state_aid_max_percentage" ? parseInt(text, 10) : text;
    }
    body.apprenticeship = value("apprenticeship") === true;
    body.instalments_enabled = value("instalments_enabled") === true;
    for (const [list, fields] of Object.entries(ROWS)) {
      body[list] = [];
      for (let index = 0; form.elements.namedItem(`${list}-${index}-start_date`); index += 1) {
        const item = {};
        for (const field of fields) {
          const text = value(`${list}-${index}-${field}`);
          if (text === "") continue;
          item[field] = field === "pay_subsidy_percent" ? parseInt(text, 10) : text;
        }
        if (Object.keys(item).length) body[list].push(item);
      }
    }
    return body;
  }

  // An error location of the body, as the form's field name: the list rows the form left out
  // (all empty) are counted back in, so that item 0 can be the form's row 2.
  function fieldOf(loc, form) {
    const parts = loc.filter((part) => part !== "body");
    if (parts.length >= 2 && ROWS[parts[0]] && Number.isInteger(parts[1])) {
      const filled = [];
      for (let index = 0; form.elements.namedItem(`${parts[0]}-${index}-start_date`); index += 1) {
        const any = ROWS[parts[0]].some((field) => {
          const input = form.elements.namedItem(`${parts[0]}-${index}-${field}`);
          return input && input.value.trim() !== "";
        });
        if (any) filled.push(index);
      }
      if (parts[1] < filled.length) parts[1] = filled[parts[1]];
    }
    return parts.join("-");
  }

  function start(form) {
    const section = document.querySelector("[data-estimate-result]");
    if (!section) return;
    const status = section.querySelector("[data-estimate-status]");
    const problems = section.querySelector("[data-estimate-problems]");
    const details = section.querySelector("[data-estimate-details]");
    const labels = JSON.parse(form.dataset.labels || "{}");
    const fieldLabels = labels.fields || {};
    const ruleLabels = labels.rules || {};
    const language = document.documentElement.lang || "fi";
    let timer = null;
    let controller = null;

    function say(text) {
      if (status.textContent !== text) status.textContent = text;
    }

    function showResult(result) {
      problems.hidden = true;
      problems.replaceChildren();
      fill(section.querySelector("[data-estimate-rows]"), result.rows, [
        (row) => `${day(row.start_date)}–${day(row.end_date)}`,
        (row) => number(row.months),
        (row) => euros(row.monthly_amount),
        (row) => euros(row.amount),
      ]);
      fill(section.querySelector("[data-estimate-instalments]"), result.instalments, [
        (_item, index) => String(index + 1),
        (item) => euros(item.amount),
        (item) => day(item.due_date),
      ]);
      fill(section.querySelector("[data-estimate-rules]"), result.rules, [
        (rule) => ruleLabels[rule.name] || rule.name,
        (rule) => (rule.value.includes(".") ? euros(rule.value) : rule.value),
        (rule) => day(rule.effective_from),
        (rule) => rule.source,
      ]);
      details.hidden = false;
      say(status.dataset.total.replace("%(total)s", euros(result.total)));
    }

    function showProblems(detail) {
      details.hidden = true;
      problems.replaceChildren();
      for (const problem of Array.isArray(detail) ? detail : []) {
        const name = fieldOf(problem.loc || [], form);
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = `#f-${name}`;
        link.className = "hds-link";
        const label = fieldLabels[name];
        link.textContent = label ? `${label}: ${problem.msg}` : problem.msg;
        item.appendChild(link);
        problems.appendChild(item);
      }
      problems.hidden = problems.children.length === 0;
      say(status.dataset.invalid);
    }

    async function update() {
      const body = payload(form);
      // Ask only once the basics are in: the period, and for the salary benefit the pay and the
      // state-aid maximum (until then the answer could only list the empty fields).
      const salary = body.benefit_type !== "employment_benefit";
      if (!body.start_date || !body.end_date
          || (salary && (!body.monthly_pay || !body.state_aid_max_percentage))) {
        details.hidden = true;
        problems.hidden = true;
        say(status.dataset.empty);
        return;
      }
      if (controller) controller.abort();
      controller = new AbortController();
      try {
        const response = await fetch(form.dataset.api, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Accept-Language": language },
          body: JSON.stringify(body),
          signal: controller.signal,
          credentials: "same-origin",
        });
        const answer = await response.json();
        if (response.ok) showResult(answer);
        else if (response.status === 422) showProblems(answer.detail);
        else say(status.dataset.failed);
      } catch (error) {
        if (error.name !== "AbortError") say(status.dataset.failed);
      }
      // The server's notice of an earlier post no longer matches what the form says.
      const notice = document.querySelector("[data-estimate-notice]");
      if (notice) notice.hidden = true;
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, DELAY_MS);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.querySelector("form[data-estimate-form]");
    if (form && window.fetch) start(form);
  });
})();
