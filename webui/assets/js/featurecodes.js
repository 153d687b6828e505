// Feature codes tab of the admin console: the table of codes a desk phone
// dials (*72 + number forwards every call, *78 turns on do not disturb…),
// edited as one whole table (PUT /api/v1/feature-codes). The same checks
// as the server run first, so each problem shows beside its code in the
// page's language; the server's answer is the last word.

import { api } from "./api.js";
import { t, onLanguageChange } from "./i18n.js";
import { clearErrors, el, errorText, setBusy, showApiError, toast } from "./ui.js";

// DEFAULTS mirror store.DefaultFeatureCodes, for the "Restore defaults" button.
const DEFAULTS = {
  forward_always_on: "*72",
  forward_always_off: "*73",
  forward_busy_on: "*90",
  forward_busy_off: "*91",
  forward_no_answer_on: "*52",
  forward_no_answer_off: "*53",
  dnd_on: "*78",
  dnd_off: "*79",
  group_pickup: "*8",
  directed_pickup: "**",
};

// rows is the table as the server last sent it: [{key, code, takes_number}].
let rows = [];

export function setupFeatureCodes() {
  const form = document.getElementById("feature-codes-form");
  form.addEventListener("input", (ev) => {
    const input = ev.target.closest("input[name]");
    if (!input) return;
    input.removeAttribute("aria-invalid");
    const slot = form.querySelector(`[data-error-for="${CSS.escape(input.name)}"]`);
    if (slot) slot.textContent = "";
    renderDial(input.name, input.value.trim());
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    save(form);
  });
  document.getElementById("feature-codes-defaults").addEventListener("click", () => {
    clearErrors(form);
    for (const [key, code] of Object.entries(DEFAULTS)) {
      const input = form.elements.namedItem(key);
      if (input) input.value = code;
      renderDial(key, code);
    }
  });
  onLanguageChange(() => render(form, true));
  load(form);
}

async function load(form) {
  try {
    const data = await api.get("/feature-codes");
    rows = (data && data.feature_codes) || [];
    render(form, false);
  } catch (err) {
    toast(errorText(err), "error");
  }
}

// render draws the table; keep=true keeps what the admin has typed.
function render(form, keep) {
  const typed = {};
  if (keep) for (const r of rows) typed[r.key] = form.elements.namedItem(r.key)?.value;
  const body = document.getElementById("feature-codes-body");
  body.replaceChildren(
    ...rows.map((r) => {
      const id = `fc-${r.key.replaceAll("_", "-")}`;
      const value = keep && typed[r.key] !== undefined ? typed[r.key] : r.code;
      return el(
        "tr",
        { dataset: { key: r.key } },
        el("td", {}, el("label", { htmlFor: id }, t(`fc.key.${r.key}`))),
        el(
          "td",
          {},
          el("input", {
            id,
            name: r.key,
            className: "input mono",
            type: "text",
            value,
            maxLength: 8,
            autocomplete: "off",
            spellcheck: false,
            inputMode: "tel",
            "aria-describedby": `${id}-error`,
          }),
          el("span", { id: `${id}-error`, className: "field-error", dataset: { errorFor: r.key } }),
        ),
        el("td", { className: "mono", dataset: { dialFor: r.key } }),
      );
    }),
  );
  for (const r of rows) renderDial(r.key, form.elements.namedItem(r.key).value.trim());
}

// renderDial shows what a phone dials for the row: "*72 1002", or "off".
function renderDial(key, code) {
  const cell = document.querySelector(`#feature-codes-body [data-dial-for="${CSS.escape(key)}"]`);
  const row = rows.find((r) => r.key === key);
  if (!cell || !row) return;
  if (!code) cell.textContent = t("fc.disabled");
  else cell.textContent = row.takes_number ? t(key === "directed_pickup" ? "fc.dial.extension" : "fc.dial.number", { code }) : code;
}

// problems checks the table as provision.CheckFeatureCodes does: {key: message}.
function problems(codes) {
  const out = {};
  const seen = [];
  for (const r of rows) {
    const code = codes[r.key];
    if (code === "") continue;
    if (!/^[*#][0-9*#]{0,7}$/.test(code)) {
      out[r.key] = t("fc.error.syntax");
      continue;
    }
    const other = seen.find((o) => o.code === code || o.code.startsWith(code) || code.startsWith(o.code));
    if (other) out[r.key] = t(other.code === code ? "fc.error.same" : "fc.error.prefix", { other: t(`fc.key.${other.key}`), code: other.code });
    seen.push({ key: r.key, code });
  }
  return out;
}

async function save(form) {
  clearErrors(form);
  const codes = {};
  for (const r of rows) codes[r.key] = form.elements.namedItem(r.key).value.trim();
  const bad = problems(codes);
  const keys = Object.keys(bad);
  if (keys.length > 0) {
    for (const key of keys) {
      form.querySelector(`[data-error-for="${CSS.escape(key)}"]`).textContent = bad[key];
      form.elements.namedItem(key).setAttribute("aria-invalid", "true");
    }
    form.elements.namedItem(keys[0]).focus();
    return;
  }
  const submit = document.getElementById("feature-codes-save");
  setBusy(submit, true);
  try {
    const data = await api.put("/feature-codes", codes);
    rows = (data && data.feature_codes) || rows;
    render(form, false);
    toast(t("fc.saved"));
  } catch (err) {
    showApiError(form, err);
  } finally {
    setBusy(submit, false);
  }
}
