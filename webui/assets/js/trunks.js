// Trunks tab of the admin console: the carriers' SIP trunks (docs/trunks.md)
// with their live state, created and edited in one dialog, deleted after a
// confirmation, and traced on demand. The list follows trunk.* events and
// the state column trunk.state_changed, so it is live without polling.
//
// It also holds the few helpers the routing and guards tabs share with it
// (routing.js): API errors shown beside the field a path names, the delete
// confirmation, and reading lists typed as text.

import { api, ApiError } from "./api.js";
import { t, onLanguageChange, formatDateTime } from "./i18n.js";
import { clearErrors, el, errorText, openDialog, setBusy, showFieldError, showFormError, toast } from "./ui.js";

// TRACE_SECONDS is how long the "Trace 5 min" button traces a trunk.
const TRACE_SECONDS = 300;
// A status the SIP side does not report yet is asked again this often.
const STATUS_RETRIES = 5;
const STATUS_RETRY_MS = 2000;

// NAME_RE is the rule for trunk, route and pool names (provision.CheckObjectName).
export const NAME_RE = /^[a-z0-9_-]{1,32}$/;

let trunks = [];
// statuses holds each trunk's live state by name: {state, registered_until,
// calls_active, last_error}, from GET …/status and trunk.state_changed.
const statuses = new Map();
const trunkListeners = new Set();
let loadSeq = 0;
let reloadTimer = 0;
// The trunk the dialog edits; null while it creates one.
let editing = null;

// getTrunks is the trunk list as last loaded, sorted by name.
export function getTrunks() {
  return trunks;
}

// onTrunksChange calls fn after each change of the trunk list (the DID and
// route forms offer the trunks).
export function onTrunksChange(fn) {
  trunkListeners.add(fn);
}

// ---------- Shared helpers ----------

// splitList reads a list typed with commas, spaces or one entry per line.
export function splitList(text) {
  return String(text || "")
    .split(/[\s,，;；]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

// readCount is a number input's value as an integer; empty is 0 (the
// default). It returns NaN for what is not a whole number.
export function readCount(input) {
  if (input.validity && input.validity.badInput) return NaN;
  const v = input.value.trim();
  if (!v) return 0;
  return /^[0-9]+$/.test(v) ? Number(v) : NaN;
}

// slotFor finds the error slot for an API field path: the path itself
// ("caller_number.pool"), the list it indexes ("patterns[1]" → "patterns",
// "numbers[2].number" → "numbers"), its first part, or the first slot
// under it ("destination" → "destination.type").
export function slotFor(form, path) {
  if (!path) return "";
  const has = (name) => !!form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
  const list = path.replace(/\[\d+\].*$/, "");
  for (const name of [path, list, path.split(".")[0]]) if (has(name)) return name;
  const under = form.querySelector(`[data-error-for^="${CSS.escape(path)}."]`);
  return under ? under.dataset.errorFor : "";
}

// showError shows an API error beside the field it names (a list entry's
// error says which line), or for the whole form.
export function showError(form, err) {
  const path = err instanceof ApiError ? err.field : "";
  const slot = slotFor(form, path);
  if (!slot) {
    showFormError(form, errorText(err));
    return;
  }
  const index = /\[(\d+)\]/.exec(path);
  const message = index && slot !== path ? t("rt.lineError", { line: Number(index[1]) + 1, message: errorText(err) }) : errorText(err);
  showFieldError(form, slot, message);
}

// fieldError shows a message from the page itself beside a field.
export function fieldError(form, field, key, params) {
  showFieldError(form, field, t(key, params));
  return false;
}

// clearOnInput removes a field's error as soon as its value changes.
export function clearOnInput(form) {
  const clear = (ev) => {
    const input = ev.target;
    if (!input || !input.name) return;
    input.removeAttribute("aria-invalid");
    const slot = slotFor(form, input.name);
    if (slot) form.querySelector(`[data-error-for="${CSS.escape(slot)}"]`).textContent = "";
  };
  form.addEventListener("input", clear);
  form.addEventListener("change", clear);
}

// showFor shows the fields of form marked data-show-for="a b" when value
// is one of them (the destination target, the route's caller number).
export function showFor(form, value) {
  for (const node of form.querySelectorAll("[data-show-for]")) {
    node.hidden = !node.dataset.showFor.split(" ").includes(value);
  }
}

let confirmAction = null;

// confirmDelete asks before deleting; run() does it. A refusal (409
// in_use naming the route that still uses it) stays in the dialog.
export function confirmDelete(title, body, run) {
  const dialog = document.getElementById("rt-delete-dialog");
  document.getElementById("rt-delete-title").textContent = title;
  document.getElementById("rt-delete-body").textContent = body;
  confirmAction = run;
  openDialog(dialog);
  // Focus Cancel, not Delete: Enter must not destroy by accident.
  dialog.querySelector("[data-close]").focus();
}

function bindConfirmDialog() {
  const dialog = document.getElementById("rt-delete-dialog");
  const form = dialog.querySelector("form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const run = confirmAction;
    if (!run) return;
    const submit = document.getElementById("rt-delete-ok");
    setBusy(submit, true, "");
    try {
      await run();
      dialog.close();
    } catch (err) {
      showFormError(form, errorText(err));
    } finally {
      setBusy(submit, false);
    }
  });
}

// ---------- Trunks ----------

export function setupTrunks(events) {
  bindConfirmDialog();
  bindTrunkDialog();
  document.getElementById("trunk-new").addEventListener("click", () => openTrunkDialog(null));
  document.getElementById("trunks-refresh").addEventListener("click", () => loadTrunks());
  document.getElementById("trunks-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const trunk = trunks.find((x) => x.name === button.dataset.trunk);
    if (!trunk) return;
    if (button.dataset.action === "edit") openTrunkDialog(trunk);
    else if (button.dataset.action === "trace") traceTrunk(trunk, button);
    else if (button.dataset.action === "delete") deleteTrunk(trunk);
  });
  events.on("snapshot", () => scheduleReload());
  events.on("trunk.*", onTrunkEvent);
  onLanguageChange(() => {
    renderTrunks();
    const dialog = document.getElementById("trunk-dialog");
    if (dialog.open) setTrunkDialogTitle();
  });
  loadTrunks();
}

async function loadTrunks() {
  const seq = ++loadSeq;
  try {
    const data = await api.get("/trunks");
    if (seq !== loadSeq) return;
    setTrunks((data && data.trunks) || []);
    await Promise.all(trunks.map((x) => loadStatus(x.name)));
  } catch (err) {
    toast(errorText(err), "error");
  }
}

function scheduleReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadTrunks, 150);
}

async function loadStatus(name, attempt = 0) {
  try {
    const s = await api.get(`/trunks/${encodeURIComponent(name)}/status`);
    if (!s) return;
    statuses.set(name, s);
    renderState(name);
    // A trunk just created or enabled is not running yet, and one that
    // never answers sends no state event (it stays down): ask again a few
    // times until the SIP side reports it.
    if (s.state === "unknown" && attempt < STATUS_RETRIES && trunks.some((x) => x.name === name && !x.disabled)) {
      setTimeout(() => loadStatus(name, attempt + 1), STATUS_RETRY_MS);
    }
  } catch (err) {
    // A trunk deleted meanwhile has no status; its row goes with the event.
    if (!(err instanceof ApiError && err.status === 404)) toast(errorText(err), "error");
  }
}

function setTrunks(list) {
  trunks = list.slice().sort((a, b) => a.name.localeCompare(b.name));
  for (const name of [...statuses.keys()]) if (!trunks.some((x) => x.name === name)) statuses.delete(name);
  renderTrunks();
  for (const fn of trunkListeners) fn(trunks);
}

// Events carry whole trunks (docs/events.md); state changes carry the
// SIP side's report, from which the state is worked out as the API does.
function onTrunkEvent(msg) {
  const data = msg.data || {};
  const name = data.name || String(msg.subject || "").replace(/^trunk:/, "");
  switch (msg.type) {
    case "trunk.created":
    case "trunk.updated":
      if (!data.name || typeof data.created !== "string") return scheduleReload();
      setTrunks([...trunks.filter((x) => x.name !== data.name), data]);
      return loadStatus(data.name);
    case "trunk.deleted":
      statuses.delete(name);
      return setTrunks(trunks.filter((x) => x.name !== name));
    case "trunk.state_changed": {
      const trunk = trunks.find((x) => x.name === name);
      const registers = (data.kind || (trunk && trunk.kind)) === "register";
      statuses.set(name, {
        state: data.up && (!registers || data.registered) ? "up" : "down",
        registered: !!data.registered,
        registered_until: data.registered_until || "",
        calls_active: data.calls_active || 0,
        last_error: data.last_error || "",
      });
      return renderState(name);
    }
  }
}

// stateOf is a trunk's state for the table: up, down, disabled or unknown.
function stateOf(trunk) {
  if (trunk.disabled) return "disabled";
  const s = statuses.get(trunk.name);
  return (s && s.state) || "unknown";
}

function renderTrunks() {
  const count = document.getElementById("trunks-count");
  const body = document.getElementById("trunks-body");
  count.textContent = t("trunks.count", { count: trunks.length });
  if (trunks.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 7 }, t("trunks.empty"))));
    return;
  }
  body.replaceChildren(
    ...trunks.map((x) => {
      const action = (name, key, extra = "") =>
        el("button", { type: "button", className: `btn btn-link ${extra}`.trim(), dataset: { action: name, trunk: x.name } }, t(key));
      const host = `${x.host}:${x.port || 5060}`;
      return el(
        "tr",
        { className: x.disabled ? "is-disabled" : "", dataset: { trunk: x.name } },
        el("td", {}, el("span", { className: "mono" }, x.name)),
        el("td", { className: "nowrap" }, t(`trunks.kind.${x.kind}`)),
        el("td", { className: "nowrap" }, el("span", { className: "mono" }, host), " ", el("span", { className: "muted" }, (x.transport || "udp").toUpperCase())),
        ...stateCells(x),
        el(
          "td",
          { className: "actions" },
          action("edit", "common.edit"),
          action("trace", "trunks.action.trace"),
          action("delete", "common.delete", "danger"),
        ),
      );
    }),
  );
}

// stateCells are the live columns: state, registered until, calls.
function stateCells(trunk) {
  const state = stateOf(trunk);
  const s = statuses.get(trunk.name) || {};
  const cell = el(
    "td",
    { className: "nowrap", dataset: { col: "state", state } },
    el("span", { className: "dev-state" }, el("span", { className: "dot", "aria-hidden": "true" }), t(`trunks.state.${state}`)),
  );
  if (s.last_error) cell.title = s.last_error;
  let until = "—";
  if (trunk.kind === "register" && s.registered && s.registered_until) until = formatDateTime(s.registered_until, { seconds: true });
  else if (trunk.kind === "register" && !trunk.disabled) until = t("trunks.notRegistered");
  return [
    cell,
    el("td", { className: "nowrap", dataset: { col: "until" } }, until),
    el("td", { className: "nowrap", dataset: { col: "calls" } }, String(s.calls_active || 0)),
  ];
}

// renderState redraws one trunk's live cells in place, so a state change
// does not take a click or the focus from another row.
function renderState(name) {
  const row = document.querySelector(`#trunks-body tr[data-trunk="${CSS.escape(name)}"]`);
  const trunk = trunks.find((x) => x.name === name);
  if (!row || !trunk) return;
  const [state, until, calls] = stateCells(trunk);
  row.querySelector('td[data-col="state"]').replaceWith(state);
  row.querySelector('td[data-col="until"]').replaceWith(until);
  row.querySelector('td[data-col="calls"]').replaceWith(calls);
}

// formOf is a trunk as the dialog shows it: defaults as the empty choice.
function formOf(x) {
  return {
    kind: x.kind || "register",
    host: x.host || "",
    port: x.port > 0 ? String(x.port) : "",
    transport: x.transport || "udp",
    username: x.username || "",
    auth_username: x.auth_username || "",
    from_domain: x.from_domain || "",
    addresses: (x.addresses || []).join(", "),
    max_calls: x.max_calls > 0 ? String(x.max_calls) : "",
    calls_per_minute: x.calls_per_minute > 0 ? String(x.calls_per_minute) : "",
    codecs: (x.codecs || []).join(","),
    dtmf_mode: x.dtmf_mode === "rfc4733" ? "" : x.dtmf_mode || "",
    called_from: x.called_from === "ruri" ? "" : x.called_from || "",
    caller_from: x.caller_from === "from" ? "" : x.caller_from || "",
    options_interval: x.options_interval > 0 ? String(x.options_interval) : "",
  };
}

function setTrunkDialogTitle() {
  document.getElementById("trunk-dialog-title").textContent = editing
    ? t("trunks.edit.title", { name: editing.name })
    : t("trunks.create.title");
}

function openTrunkDialog(trunk) {
  editing = trunk;
  const dialog = document.getElementById("trunk-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  setTrunkDialogTitle();
  const values = formOf(trunk || {});
  for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
  form.elements.name.value = trunk ? trunk.name : "";
  form.elements.name.disabled = !!trunk;
  form.elements.disabled.checked = !!(trunk && trunk.disabled);
  // The secret is never shown: an edit leaves it empty to keep it.
  const hint = document.getElementById("trunk-secret-hint");
  hint.dataset.i18n = trunk ? (trunk.has_secret ? "trunks.field.secretKeep" : "trunks.field.secretNone") : "trunks.field.secretHint";
  hint.textContent = t(hint.dataset.i18n);
  openDialog(dialog);
  if (trunk) form.elements.kind.focus();
}

// readTrunk reads the dialog as the API takes a trunk (not name or secret);
// null when a number field holds no number (shown beside it).
function readTrunk(form) {
  const e = form.elements;
  const out = {
    kind: e.kind.value,
    host: e.host.value.trim(),
    transport: e.transport.value,
    username: e.username.value.trim(),
    auth_username: e.auth_username.value.trim(),
    from_domain: e.from_domain.value.trim(),
    addresses: splitList(e.addresses.value),
    codecs: e.codecs.value ? e.codecs.value.split(",") : [],
    dtmf_mode: e.dtmf_mode.value,
    called_from: e.called_from.value,
    caller_from: e.caller_from.value,
    disabled: e.disabled.checked,
  };
  let ok = true;
  for (const name of ["port", "max_calls", "calls_per_minute", "options_interval"]) {
    out[name] = readCount(e[name]);
    if (Number.isNaN(out[name])) ok = fieldError(form, name, "rt.error.wholeNumber") && ok;
  }
  return ok ? out : null;
}

function bindTrunkDialog() {
  const dialog = document.getElementById("trunk-dialog");
  const form = dialog.querySelector("form");
  clearOnInput(form);
  // Closing without saving forgets a typed secret.
  dialog.addEventListener("close", () => {
    form.elements.secret.value = "";
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const name = form.elements.name.value.trim();
    if (!editing && !NAME_RE.test(name)) return fieldError(form, "name", "rt.error.name");
    if (!form.elements.host.value.trim()) return fieldError(form, "host", "error.required");
    const values = readTrunk(form);
    if (!values) return;
    const secret = form.elements.secret.value;
    if (!editing && values.kind === "register" && !secret) return fieldError(form, "secret", "trunks.error.secretRequired");
    let body;
    if (editing) {
      // Send only what changed, so two admins editing different fields
      // of one trunk do not overwrite each other.
      const before = formOf(editing);
      const now = formOf(values);
      body = {};
      for (const key of Object.keys(before)) if (now[key] !== before[key]) body[key] = values[key];
      if (values.disabled !== !!editing.disabled) body.disabled = values.disabled;
      if (secret) body.secret = secret;
    } else {
      body = { name, ...values };
      if (secret) body.secret = secret;
    }
    const submit = document.getElementById("trunk-submit");
    setBusy(submit, true);
    try {
      let saved;
      if (!editing) saved = await api.post("/trunks", body);
      else if (Object.keys(body).length > 0) saved = await api.patch(`/trunks/${encodeURIComponent(editing.name)}`, body);
      dialog.close();
      if (saved && saved.name) {
        toast(t(editing ? "trunks.updated" : "trunks.created", { name: saved.name }));
        onTrunkEvent({ type: editing ? "trunk.updated" : "trunk.created", data: saved });
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === "exists") fieldError(form, "name", "rt.error.exists");
      else showError(form, err);
      if (err instanceof ApiError && err.status === 404) loadTrunks();
    } finally {
      setBusy(submit, false);
    }
  });
}

async function traceTrunk(trunk, button) {
  button.disabled = true;
  try {
    await api.post(`/trunks/${encodeURIComponent(trunk.name)}/trace`, { seconds: TRACE_SECONDS });
    toast(t("trunks.trace.started", { name: trunk.name, minutes: TRACE_SECONDS / 60 }));
  } catch (err) {
    toast(errorText(err), "error");
  } finally {
    button.disabled = false;
  }
}

function deleteTrunk(trunk) {
  confirmDelete(t("trunks.delete.title"), t("trunks.delete.body", { name: trunk.name }), async () => {
    try {
      await api.del(`/trunks/${encodeURIComponent(trunk.name)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    toast(t("trunks.deleted", { name: trunk.name }));
    onTrunkEvent({ type: "trunk.deleted", data: { name: trunk.name } });
  });
}
