// Admin console: users (list, create, edit, reset password, delete),
// SIP extensions (list, create, edit, new secret, delete) with their phones'
// live registration and call state, call records, system settings and the
// login log (the trunks, numbers and routes, and call guards tabs live in
// trunks.js and routing.js). The user and extension lists follow user.*
// and extension.* events so several admins see each other's changes;
// extension states follow device.state_changed, and the call records
// reload on call.ended.

import { api, ApiError } from "./api.js";
import { cdrQuery, formatDuration, talkTime } from "./calls.js";
import { DeviceStates, displayState } from "./devices.js";
import { t, onLanguageChange, formatDateTime } from "./i18n.js";
import { setupFeatureCodes } from "./featurecodes.js";
import { setupRouting, setupGuards } from "./routing.js";
import { setupTrunks } from "./trunks.js";
import { initShell } from "./shell.js";
import {
  clearErrors,
  el,
  errorText,
  openDialog,
  validateForm,
  roleLabel,
  setBusy,
  showApiError,
  showFieldError,
  toast,
} from "./ui.js";

const LOG_LIMIT = 100;
const CALLS_LIMIT = 100;
const TABS = ["users", "extensions", "feature-codes", "trunks", "routing", "guards", "calls", "system", "login-log"];

let shell;
let users = [];
let logEntries = null;
let reloadTimer = 0;
let extensions = [];
let extReloadTimer = 0;
// Extension loads are numbered so that only the newest answer is used, and
// events that arrive while one is in flight are applied again on top of it:
// the answer may have been read before the event's change.
let extLoadSeq = 0;
let extPendingEvents = null;
const devices = new DeviceStates(() => api.get("/registrations"));
// Extensions whose registered phones are listed under their row.
const openDetails = new Set();
// Call records: null until loaded for the chosen period.
let cdrs = null;
let callsRange = "today";
let callsLoadSeq = 0;
let callsReloadTimer = 0;

try {
  shell = await initShell({ pageTitleKey: "admin.pageTitle" });
} catch (err) {
  // A signed-out visitor is already on the way to the login page.
  if (!(err instanceof ApiError && err.status === 401)) toast(errorText(err), "error");
}

if (shell && shell.me.role !== "admin") {
  document.getElementById("admin-forbidden").hidden = false;
} else if (shell) {
  document.getElementById("admin-content").hidden = false;
  setupTabs();
  setupUsers();
  setupExtensions();
  setupFeatureCodes();
  setupTrunks(shell.events);
  setupRouting(shell.events);
  setupGuards(shell.events);
  setupCalls();
  setupSystem();
  setupLoginLog();
  onLanguageChange(() => {
    renderUsers();
    renderOwnerSelects();
    renderExtensions();
    renderCalls();
    renderLog();
  });
  shell.events.on("snapshot", onSnapshot);
  shell.events.on("user.*", onUserEvent);
  shell.events.on("extension.*", onExtensionEvent);
  shell.events.on("device.state_changed", (msg) => devices.onEvent(msg));
  shell.events.on("call.ended", onCallEnded);
  shell.events.on("system.updated", (msg) => showTitle(msg.data && msg.data.title));
}
if (shell) document.body.dataset.ready = "true";

// ---------- Tabs ----------

function setupTabs() {
  const tabs = TABS.map((name) => document.getElementById(`tab-${name}`));
  const select = (name, focus = false) => {
    if (!TABS.includes(name)) name = TABS[0];
    for (const tab of tabs) {
      const on = tab.dataset.panel === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(`panel-${tab.dataset.panel}`).hidden = !on;
      if (on && focus) tab.focus();
    }
    if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
    if (name === "login-log") loadLog();
    if (name === "calls") loadCalls();
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab.dataset.panel));
    // Arrow keys move between tabs, as the ARIA tabs pattern expects.
    tab.addEventListener("keydown", (ev) => {
      const i = TABS.indexOf(tab.dataset.panel);
      const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (!step) return;
      ev.preventDefault();
      select(TABS[(i + step + TABS.length) % TABS.length], true);
    });
  }
  select(location.hash.slice(1));
  // A link to another section of this page (admin#extensions) only changes the hash.
  window.addEventListener("hashchange", () => select(location.hash.slice(1)));
}

// ---------- Users ----------

function setupUsers() {
  const card = document.getElementById("user-create-card");
  const form = document.getElementById("user-create-form");
  document.getElementById("user-new").addEventListener("click", () => {
    form.reset();
    clearErrors(form);
    card.hidden = false;
    form.elements.name.focus();
  });
  document.getElementById("user-create-cancel").addEventListener("click", () => {
    card.hidden = true;
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    createUser(form, card);
  });
  for (const input of form.querySelectorAll("input, select")) {
    input.addEventListener("input", () => {
      input.removeAttribute("aria-invalid");
      const slot = form.querySelector(`[data-error-for="${input.name}"]`);
      if (slot) slot.textContent = "";
    });
  }

  document.getElementById("users-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const user = users.find((u) => u.name === button.dataset.user);
    if (!user) return;
    if (button.dataset.action === "edit") editUser(user);
    else if (button.dataset.action === "reset") resetPassword(user);
    else if (button.dataset.action === "delete") deleteUser(user);
  });

  bindEditDialog();
  bindResetDialog();
  bindDeleteDialog();
  loadUsers();
}

async function loadUsers() {
  try {
    const data = await api.get("/users");
    setUsers((data && data.users) || []);
  } catch (err) {
    toast(errorText(err), "error");
  }
}

// scheduleUsersReload coalesces bursts of events into one reload.
function scheduleUsersReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadUsers, 150);
}

function setUsers(list) {
  users = list.slice().sort((a, b) => a.name.localeCompare(b.name));
  renderUsers();
  // Owners are shown by display name and chosen from the user list.
  renderOwnerSelects();
  renderExtensions();
}

// A snapshot carries the whole user list (docs/events.md).
function onSnapshot(msg) {
  const list = msg.data && msg.data.users;
  if (Array.isArray(list)) setUsers(list);
  else scheduleUsersReload();
  // The snapshot does not carry extensions, devices or calls; events may
  // have been missed before it, so they are fetched again.
  scheduleExtensionsReload();
  devices.scheduleLoad({ reset: true });
  if (callsVisible()) scheduleCallsReload();
}

// Events carry whole users, so they are applied in place; an event
// without the expected data falls back to reloading the list.
function onUserEvent(msg) {
  const data = msg.data || {};
  const name = data.name || String(msg.subject || "").replace(/^user:/, "");
  switch (msg.type) {
    case "user.created":
    case "user.updated":
      if (!data.name || !data.role) return scheduleUsersReload();
      return setUsers([...users.filter((u) => u.name !== data.name), data]);
    case "user.deleted":
      if (!name) return scheduleUsersReload();
      return setUsers(users.filter((u) => u.name !== name));
  }
}

function languageLabel(code) {
  if (code === "zh-CN" || code === "en") return t(`lang.${code}`);
  return code ? code : t("users.language.default");
}

function renderUsers() {
  document.getElementById("users-count").textContent = t("users.count", { count: users.length });
  const body = document.getElementById("users-body");
  if (users.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 8 }, t("users.empty"))));
    return;
  }
  const myName = shell.me.name;
  body.replaceChildren(
    ...users.map((u) => {
      const action = (name, key, extra = "") =>
        el(
          "button",
          { type: "button", className: `btn btn-link ${extra}`.trim(), dataset: { action: name, user: u.name } },
          t(key),
        );
      return el(
        "tr",
        { className: u.disabled ? "is-disabled" : "", dataset: { user: u.name } },
        el("td", {}, el("span", { className: "mono" }, u.name), u.name === myName ? el("span", { className: "you" }, t("users.you")) : null),
        el("td", {}, u.display_name || ""),
        el("td", {}, el("span", { className: `badge badge-${u.role}` }, roleLabel(u.role))),
        el("td", { className: "mono" }, u.agent_number || ""),
        el("td", { className: "nowrap" }, languageLabel(u.language)),
        el(
          "td",
          {},
          el(
            "span",
            { className: u.disabled ? "badge badge-bad" : "badge badge-ok" },
            t(u.disabled ? "users.status.disabled" : "users.status.active"),
          ),
        ),
        el("td", { className: "muted nowrap" }, formatDateTime(u.created)),
        el(
          "td",
          { className: "actions" },
          action("edit", "users.action.edit"),
          action("reset", "users.action.reset"),
          action("delete", "users.action.delete", "danger"),
        ),
      );
    }),
  );
}

async function createUser(form, card) {
  clearErrors(form);
  if (!validateForm(form, { name: "userName", display_name: "text64", agent_number: "agentNumber", password: "password" })) return;
  const body = {
    name: form.elements.name.value.trim(),
    display_name: form.elements.display_name.value.trim(),
    agent_number: form.elements.agent_number.value.trim(),
    role: form.elements.role.value,
    password: form.elements.password.value,
    language: form.elements.language.value,
  };
  const submit = document.getElementById("user-create-submit");
  setBusy(submit, true);
  try {
    await api.post("/users", body);
    card.hidden = true;
    form.reset();
    toast(t("users.created", { name: body.name }));
    loadUsers();
  } catch (err) {
    if (err instanceof ApiError && err.code === "exists") showFieldError(form, "name", t("error.exists"));
    else showApiError(form, err);
  } finally {
    setBusy(submit, false);
  }
}

// The user a dialog is working on.
let editing = null;

function editUser(user) {
  editing = user;
  const dialog = document.getElementById("user-edit-dialog");
  const form = dialog.querySelector("form");
  document.getElementById("user-edit-title").textContent = t("users.edit.title", { name: user.name });
  form.elements.display_name.value = user.display_name || "";
  form.elements.agent_number.value = user.agent_number || "";
  form.elements.role.value = user.role;
  form.elements.language.value = user.language || "";
  form.elements.disabled.checked = !!user.disabled;
  openDialog(dialog);
}

function bindEditDialog() {
  const dialog = document.getElementById("user-edit-dialog");
  const form = dialog.querySelector("form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const user = editing;
    // Send only what changed, so two admins editing different fields of
    // the same user do not overwrite each other.
    const patch = {};
    if (!validateForm(form, { display_name: "text64", agent_number: "agentNumber" })) return;
    const displayName = form.elements.display_name.value.trim();
    if (displayName !== (user.display_name || "")) patch.display_name = displayName;
    const agentNumber = form.elements.agent_number.value.trim();
    if (agentNumber !== (user.agent_number || "")) patch.agent_number = agentNumber;
    if (form.elements.role.value !== user.role) patch.role = form.elements.role.value;
    if (form.elements.language.value !== (user.language || "")) patch.language = form.elements.language.value;
    if (form.elements.disabled.checked !== !!user.disabled) patch.disabled = form.elements.disabled.checked;
    if (Object.keys(patch).length === 0) {
      dialog.close();
      return;
    }
    const submit = document.getElementById("user-edit-submit");
    setBusy(submit, true);
    try {
      await api.patch(`/users/${encodeURIComponent(user.name)}`, patch);
      dialog.close();
      toast(t("users.updated", { name: user.name }));
      loadUsers();
    } catch (err) {
      showApiError(form, err);
      if (err instanceof ApiError && err.status === 404) loadUsers();
    } finally {
      setBusy(submit, false);
    }
  });
}

function resetPassword(user) {
  editing = user;
  const dialog = document.getElementById("user-reset-dialog");
  dialog.querySelector("form").reset();
  document.getElementById("user-reset-title").textContent = t("users.reset.title", { name: user.name });
  openDialog(dialog);
}

function bindResetDialog() {
  const dialog = document.getElementById("user-reset-dialog");
  const form = dialog.querySelector("form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!validateForm(form, { password: "password", confirm_password: "required" })) return;
    if (form.elements.password.value !== form.elements.confirm_password.value) {
      showFieldError(form, "confirm_password", t("error.mismatch"));
      return;
    }
    const user = editing;
    const submit = document.getElementById("user-reset-submit");
    setBusy(submit, true);
    try {
      await api.post(`/users/${encodeURIComponent(user.name)}/password`, { password: form.elements.password.value });
      dialog.close();
      toast(t("users.reset.done", { name: user.name }));
    } catch (err) {
      showApiError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
}

function deleteUser(user) {
  editing = user;
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-body").textContent = t("users.delete.body", { name: user.name });
  openDialog(dialog);
  // Focus Cancel, not Delete: Enter must not destroy by accident.
  dialog.querySelector("[data-close]").focus();
}

function bindDeleteDialog() {
  const dialog = document.getElementById("confirm-dialog");
  const form = dialog.querySelector("form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const user = editing;
    const submit = document.getElementById("confirm-ok");
    setBusy(submit, true, "");
    try {
      await api.del(`/users/${encodeURIComponent(user.name)}`);
      dialog.close();
      toast(t("users.deleted", { name: user.name }));
      loadUsers();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        dialog.close();
        loadUsers();
      } else {
        showApiError(form, err);
      }
    } finally {
      setBusy(submit, false);
    }
  });
}

// ---------- Extensions ----------

// SECRET_ALPHABET leaves out characters that are easily confused when a
// secret is read off the screen and typed into a phone's keypad menu
// (0/O, 1/l/I).
const SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
const SECRET_LENGTH = 16;

// generateSecret returns SECRET_LENGTH characters from the browser's CSPRNG.
// Bytes that would make some characters more likely than others are
// rejected rather than reduced modulo the alphabet size.
function generateSecret() {
  const n = SECRET_ALPHABET.length;
  const limit = 256 - (256 % n);
  let out = "";
  const buf = new Uint8Array(SECRET_LENGTH * 2);
  // Each round keeps about 88 % of the bytes: a handful of rounds at most.
  for (let round = 0; round < 64 && out.length < SECRET_LENGTH; round++) {
    crypto.getRandomValues(buf);
    for (const b of buf) {
      if (b < limit && out.length < SECRET_LENGTH) out += SECRET_ALPHABET[b % n];
    }
  }
  return out;
}

function setupExtensions() {
  const card = document.getElementById("extension-create-card");
  const form = document.getElementById("extension-create-form");
  document.getElementById("extension-new").addEventListener("click", () => {
    form.reset();
    clearErrors(form);
    renderOwnerSelects();
    card.hidden = false;
    form.elements.number.focus();
  });
  document.getElementById("extension-create-cancel").addEventListener("click", () => {
    card.hidden = true;
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    createExtension(form, card);
  });
  clearErrorOnInput(form);

  // "Generate" fills the secret beside it and selects it, ready to copy.
  for (const button of document.querySelectorAll("button[data-generate-for]")) {
    button.addEventListener("click", () => {
      const input = document.getElementById(button.dataset.generateFor);
      input.value = generateSecret();
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus();
      input.select();
    });
  }

  document.getElementById("extensions-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const ext = extensions.find((e) => e.number === button.dataset.extension);
    if (!ext) return;
    if (button.dataset.action === "edit") editExtension(ext);
    else if (button.dataset.action === "secret") setExtensionSecret(ext);
    else if (button.dataset.action === "delete") deleteExtension(ext);
    else if (button.dataset.action === "phones") toggleDetails(ext.number);
  });

  // Only the status cells are redrawn: replacing whole rows under a
  // pointer about to click one of their buttons would lose the click.
  devices.onChange((number) => {
    if (number !== null) renderDeviceStatus(number);
    else for (const e of extensions) renderDeviceStatus(e.number);
  });
  devices.load().catch((err) => toast(errorText(err), "error"));

  bindExtensionEditDialog();
  bindExtensionSecretDialog();
  bindExtensionDeleteDialog();
  renderOwnerSelects();
  loadExtensions();
}

// clearErrorOnInput removes a field's error as soon as its value changes.
function clearErrorOnInput(form) {
  for (const input of form.querySelectorAll("input, select")) {
    const clear = () => {
      input.removeAttribute("aria-invalid");
      const slot = form.querySelector(`[data-error-for="${CSS.escape(input.name)}"]`);
      if (slot) slot.textContent = "";
    };
    input.addEventListener("input", clear);
    input.addEventListener("change", clear);
  }
}

async function loadExtensions() {
  const seq = ++extLoadSeq;
  extPendingEvents = [];
  try {
    const data = await api.get("/extensions");
    if (seq !== extLoadSeq) return; // a newer load is under way
    const pending = extPendingEvents || [];
    extPendingEvents = null;
    setExtensions((data && data.extensions) || []);
    for (const msg of pending) applyExtensionEvent(msg);
  } catch (err) {
    if (seq === extLoadSeq) extPendingEvents = null;
    toast(errorText(err), "error");
  }
}

// scheduleExtensionsReload coalesces bursts of events into one reload.
function scheduleExtensionsReload() {
  clearTimeout(extReloadTimer);
  extReloadTimer = setTimeout(loadExtensions, 150);
}

function compareNumbers(a, b) {
  return a.number.localeCompare(b.number, "en", { numeric: true });
}

function setExtensions(list) {
  extensions = list.slice().sort(compareNumbers);
  renderExtensions();
}

function onExtensionEvent(msg) {
  if (extPendingEvents) extPendingEvents.push(msg);
  applyExtensionEvent(msg);
}

// Events carry whole extensions (docs/events.md), so they are applied in
// place; one without the expected data falls back to reloading the list.
function applyExtensionEvent(msg) {
  const data = msg.data || {};
  const number = data.number || String(msg.subject || "").replace(/^extension:/, "");
  switch (msg.type) {
    case "extension.created":
    case "extension.updated":
      if (!data.number || typeof data.created !== "string") return scheduleExtensionsReload();
      if (isOlder(data, extensions.find((e) => e.number === data.number))) return;
      return setExtensions([...extensions.filter((e) => e.number !== data.number), data]);
    case "extension.deleted":
      if (!number) return scheduleExtensionsReload();
      return setExtensions(extensions.filter((e) => e.number !== number));
  }
}

// isOlder reports whether a is an older version of b. The page applies both
// its own requests' answers and events, which may arrive in either order.
function isOlder(a, b) {
  if (!b) return false;
  const ta = Date.parse(a.updated);
  const tb = Date.parse(b.updated);
  return Number.isFinite(ta) && Number.isFinite(tb) && ta < tb;
}

// ownerLabel shows an owner by display name when the user list knows one.
function ownerLabel(name) {
  if (!name) return "";
  const u = users.find((x) => x.name === name);
  return u && u.display_name ? `${u.display_name} (${name})` : name;
}

// renderOwnerSelects fills every owner <select> with "None" and the users,
// keeping the current choice, even one no longer in the list.
function renderOwnerSelects() {
  for (const select of document.querySelectorAll("select[data-owner-select]")) {
    const value = select.value;
    const names = users.map((u) => u.name);
    if (value && !names.includes(value)) names.push(value);
    select.replaceChildren(
      el("option", { value: "" }, t("ext.user.none")),
      ...names.map((name) => el("option", { value: name }, ownerLabel(name))),
    );
    select.value = value;
  }
}

function codecsValue(codecs) {
  return Array.isArray(codecs) ? codecs.join(",") : "";
}

// codecsLabel: [] is the default (both, PCMU first), worded as such.
function codecsLabel(codecs) {
  if (!Array.isArray(codecs) || codecs.length === 0) return t("ext.codecs.default");
  return codecs.join(", ");
}

function maxCallsLabel(n) {
  return n > 0 ? String(n) : t("ext.maxCalls.default", { count: 2 });
}

function renderExtensions() {
  const count = document.getElementById("extensions-count");
  const body = document.getElementById("extensions-body");
  if (!count || !body) return;
  count.textContent = t("ext.count", { count: extensions.length });
  if (extensions.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 7 }, t("ext.empty"))));
    return;
  }
  body.replaceChildren(
    ...extensions.flatMap((e) => {
      const action = (name, key, extra = "") =>
        el(
          "button",
          { type: "button", className: `btn btn-link ${extra}`.trim(), dataset: { action: name, extension: e.number } },
          t(key),
        );
      const row = el(
        "tr",
        { className: e.disabled ? "is-disabled" : "", dataset: { extension: e.number } },
        el("td", {}, el("span", { className: "mono" }, e.number)),
        el("td", {}, e.name || ""),
        el("td", {}, ownerLabel(e.user)),
        el("td", { className: "nowrap" }, maxCallsLabel(e.max_calls)),
        el("td", { className: "nowrap" }, codecsLabel(e.codecs)),
        statusCell(e),
        el(
          "td",
          { className: "actions" },
          action("edit", "ext.action.edit"),
          action("secret", "ext.action.secret"),
          action("delete", "ext.action.delete", "danger"),
        ),
      );
      return openDetails.has(e.number) && devices.get(e.number).count > 0 ? [row, detailsRow(e.number)] : [row];
    }),
  );
}

// ---------- Extension device states ----------

// statusCell shows an extension's device state: a coloured dot, the state
// in words and how many phones are registered. The count opens a row with
// each phone; the cell's tooltip lists them too.
function statusCell(ext) {
  const dev = devices.get(ext.number);
  const state = displayState(dev);
  const cell = el("td", { className: "nowrap", dataset: { col: "status", state } });
  if (ext.disabled) cell.append(el("span", { className: "badge badge-bad" }, t("ext.status.disabled")), " ");
  cell.append(el("span", { className: "dev-state" }, el("span", { className: "dot", "aria-hidden": "true" }), t(`dev.state.${state}`)));
  if (dev.count > 0) {
    const open = openDetails.has(ext.number);
    cell.append(
      " ",
      el(
        "button",
        {
          type: "button",
          className: "btn btn-link dev-phones",
          dataset: { action: "phones", extension: ext.number },
          "aria-expanded": String(open),
          "aria-controls": `ext-details-${ext.number}`,
          "aria-label": t("dev.details.show", { number: ext.number }),
        },
        dev.count === 1 ? t("dev.phones.one") : t("dev.phones", { count: dev.count }),
      ),
    );
    const silent = dev.count - dev.available;
    if (silent > 0) cell.append(" ", el("span", { className: "muted" }, t("dev.notAnswering", { count: silent })));
  }
  if (dev.contacts && dev.contacts.length > 0) {
    cell.title = dev.contacts.map(contactSummary).join("\n");
  }
  return cell;
}

function contactSummary(c) {
  const parts = [c.source || c.contact || "", (c.transport || "").toUpperCase(), c.user_agent || ""];
  if (c.expires) parts.push(`${t("dev.contact.expires")} ${formatDateTime(c.expires, { seconds: true })}`);
  if (!c.available) parts.push(t("dev.contact.unavailable"));
  return parts.filter(Boolean).join(" · ");
}

// detailsRow lists an extension's registered phones under its row.
function detailsRow(number) {
  const dev = devices.get(number);
  let content;
  if (dev.contacts === null) {
    content = el("p", { className: "muted" }, t("dev.details.loading"));
  } else if (dev.contacts.length === 0) {
    content = el("p", { className: "muted" }, t("dev.details.empty"));
  } else {
    const th = (key) => el("th", { scope: "col" }, t(key));
    content = el(
      "table",
      { className: "contacts" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          th("dev.contact.source"),
          th("dev.contact.transport"),
          th("dev.contact.userAgent"),
          th("dev.contact.expires"),
          th("dev.contact.status"),
        ),
      ),
      el(
        "tbody",
        {},
        ...dev.contacts.map((c) =>
          el(
            "tr",
            { dataset: { contact: c.contact || "" } },
            el("td", { className: "mono", title: c.contact || "" }, c.source || ""),
            el("td", { className: "mono" }, (c.transport || "").toUpperCase()),
            el("td", { className: "ua", title: c.user_agent || "" }, c.user_agent || ""),
            el("td", { className: "nowrap" }, formatDateTime(c.expires, { seconds: true })),
            el(
              "td",
              {},
              el(
                "span",
                { className: c.available ? "badge badge-ok" : "badge badge-warn" },
                t(c.available ? "dev.contact.available" : "dev.contact.unavailable"),
              ),
            ),
          ),
        ),
      ),
    );
  }
  return el(
    "tr",
    { className: "ext-details", id: `ext-details-${number}`, dataset: { detailsFor: number } },
    el("td", { colSpan: 7 }, content),
  );
}

function toggleDetails(number) {
  if (openDetails.has(number)) {
    openDetails.delete(number);
  } else {
    openDetails.add(number);
    // Expiry times move on with every re-registration, which sends no
    // event: read them afresh when someone looks.
    devices.scheduleLoad();
  }
  renderDeviceStatus(number);
  const button = document.querySelector(`#extensions-body button[data-action="phones"][data-extension="${CSS.escape(number)}"]`);
  if (button) button.focus();
}

// renderDeviceStatus redraws one extension's status cell and phone list in
// place, so a state change does not take the focus from another row.
function renderDeviceStatus(number) {
  const row = document.querySelector(`#extensions-body tr[data-extension="${CSS.escape(number)}"]`);
  const ext = extensions.find((e) => e.number === number);
  if (!row || !ext) return;
  const old = row.querySelector('td[data-col="status"]');
  const focused = old && old.contains(document.activeElement);
  const cell = statusCell(ext);
  if (old) old.replaceWith(cell);
  if (focused) {
    const button = cell.querySelector("button");
    if (button) button.focus();
  }
  const details = document.getElementById(`ext-details-${number}`);
  if (details) details.remove();
  if (openDetails.has(number) && devices.get(number).count > 0) {
    row.after(detailsRow(number));
  } else {
    openDetails.delete(number);
  }
}

// readMaxCalls is the number in a max-calls input; empty is 0 (the default).
function readMaxCalls(input) {
  const v = input.value.trim();
  return v ? Number(v) : 0;
}

function readCodecs(select) {
  return select.value ? select.value.split(",") : [];
}

// FEATURE_RULES check an extension's call features (validateForm rules).
const FEATURE_RULES = {
  forward_always: "forward",
  forward_busy: "forward",
  forward_no_answer: "forward",
  no_answer_seconds: "ringSeconds",
  pickup_group: "pickupGroup",
};

// readFeatures is the call features in a form, as the API takes them.
function readFeatures(form) {
  const e = form.elements;
  const seconds = e.no_answer_seconds.value.trim();
  return {
    dtmf_mode: e.dtmf_mode.value,
    dnd: e.dnd.checked,
    forward_always: e.forward_always.value.trim(),
    forward_busy: e.forward_busy.value.trim(),
    forward_no_answer: e.forward_no_answer.value.trim(),
    no_answer_seconds: seconds ? Number(seconds) : 0,
    pickup_group: e.pickup_group.value.trim(),
    ring_on: e.ring_on.value,
  };
}

// featuresOf is an extension's call features as readFeatures reads them.
function featuresOf(ext) {
  return {
    dtmf_mode: ext.dtmf_mode === "rfc4733" ? "" : ext.dtmf_mode || "",
    dnd: !!ext.dnd,
    forward_always: ext.forward_always || "",
    forward_busy: ext.forward_busy || "",
    forward_no_answer: ext.forward_no_answer || "",
    no_answer_seconds: ext.no_answer_seconds || 0,
    pickup_group: ext.pickup_group || "",
    ring_on: ext.ring_on === "both" ? "" : ext.ring_on || "",
  };
}

// showFeatures puts an extension's call features in a form.
function showFeatures(form, ext) {
  const e = form.elements;
  e.dtmf_mode.value = ext.dtmf_mode === "rfc4733" ? "" : ext.dtmf_mode || "";
  e.dnd.checked = !!ext.dnd;
  e.forward_always.value = ext.forward_always || "";
  e.forward_busy.value = ext.forward_busy || "";
  e.forward_no_answer.value = ext.forward_no_answer || "";
  e.no_answer_seconds.value = ext.no_answer_seconds > 0 ? String(ext.no_answer_seconds) : "";
  e.pickup_group.value = ext.pickup_group || "";
  e.ring_on.value = ext.ring_on === "both" ? "" : ext.ring_on || "";
}

// checkForwards refuses a forward to the extension itself.
function checkForwards(form, number) {
  for (const name of ["forward_always", "forward_busy", "forward_no_answer"]) {
    if (form.elements[name].value.trim() === number) {
      showFieldError(form, name, t("error.forwardSelf"));
      return false;
    }
  }
  return true;
}

// validateExtensionForm checks what the server would refuse, so the
// message is in the page's language. number is the extension's number
// (the form's own for a new one).
function validateExtensionForm(form, rules, number) {
  let ok = validateForm(form, rules);
  const maxCalls = form.elements.namedItem("max_calls");
  // A number input reports letters as an empty value plus badInput.
  if (maxCalls && maxCalls.validity.badInput && ok) {
    showFieldError(form, "max_calls", t("error.maxCalls"));
    ok = false;
  }
  const secret = form.elements.namedItem("secret");
  if (secret && ok && secret.value === number) {
    showFieldError(form, "secret", t("error.secretIsNumber"));
    ok = false;
  }
  return ok;
}

async function createExtension(form, card) {
  clearErrors(form);
  const number = form.elements.number.value.trim();
  const rules = { number: "extNumber", name: "text64", secret: "secret", max_calls: "maxCalls", ...FEATURE_RULES };
  if (!validateExtensionForm(form, rules, number) || !checkForwards(form, number)) return;
  const body = {
    number,
    name: form.elements.name.value.trim(),
    user: form.elements.user.value,
    secret: form.elements.secret.value,
    max_calls: readMaxCalls(form.elements.max_calls),
    codecs: readCodecs(form.elements.codecs),
    ...readFeatures(form),
  };
  const submit = document.getElementById("extension-create-submit");
  setBusy(submit, true);
  try {
    const created = await api.post("/extensions", body);
    card.hidden = true;
    form.reset();
    toast(t("ext.created", { number }));
    if (created && created.number) onExtensionEvent({ type: "extension.created", data: created });
    else loadExtensions();
  } catch (err) {
    if (err instanceof ApiError && err.code === "exists") showFieldError(form, "number", t("ext.error.exists"));
    else showApiError(form, err);
  } finally {
    setBusy(submit, false);
  }
}

// The extension a dialog is working on.
let editingExt = null;

function editExtension(ext) {
  editingExt = ext;
  const dialog = document.getElementById("ext-edit-dialog");
  const form = dialog.querySelector("form");
  document.getElementById("ext-edit-title").textContent = t("ext.edit.title", { number: ext.number });
  form.elements.name.value = ext.name || "";
  renderOwnerSelects();
  form.elements.user.value = ext.user || "";
  // An owner the user list does not know (yet) is still shown.
  if (form.elements.user.value !== (ext.user || "")) {
    form.elements.user.append(el("option", { value: ext.user }, ext.user));
    form.elements.user.value = ext.user;
  }
  form.elements.max_calls.value = ext.max_calls > 0 ? String(ext.max_calls) : "";
  form.elements.codecs.value = codecsValue(ext.codecs);
  form.elements.disabled.checked = !!ext.disabled;
  showFeatures(form, ext);
  openDialog(dialog);
}

function bindExtensionEditDialog() {
  const dialog = document.getElementById("ext-edit-dialog");
  const form = dialog.querySelector("form");
  clearErrorOnInput(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const ext = editingExt;
    const rules = { name: "text64", max_calls: "maxCalls", ...FEATURE_RULES };
    if (!validateExtensionForm(form, rules, ext.number) || !checkForwards(form, ext.number)) return;
    // Send only what changed, so two admins editing different fields of
    // the same extension do not overwrite each other.
    const patch = {};
    const name = form.elements.name.value.trim();
    if (name !== (ext.name || "")) patch.name = name;
    if (form.elements.user.value !== (ext.user || "")) patch.user = form.elements.user.value;
    const maxCalls = readMaxCalls(form.elements.max_calls);
    if (maxCalls !== (ext.max_calls || 0)) patch.max_calls = maxCalls;
    if (form.elements.codecs.value !== codecsValue(ext.codecs)) patch.codecs = readCodecs(form.elements.codecs);
    if (form.elements.disabled.checked !== !!ext.disabled) patch.disabled = form.elements.disabled.checked;
    const before = featuresOf(ext);
    for (const [key, value] of Object.entries(readFeatures(form))) {
      if (value !== before[key]) patch[key] = value;
    }
    if (Object.keys(patch).length === 0) {
      dialog.close();
      return;
    }
    const submit = document.getElementById("ext-edit-submit");
    setBusy(submit, true);
    try {
      const updated = await api.patch(`/extensions/${encodeURIComponent(ext.number)}`, patch);
      dialog.close();
      toast(t("ext.updated", { number: ext.number }));
      if (updated && updated.number) onExtensionEvent({ type: "extension.updated", data: updated });
      else loadExtensions();
    } catch (err) {
      showApiError(form, err);
      if (err instanceof ApiError && err.status === 404) loadExtensions();
    } finally {
      setBusy(submit, false);
    }
  });
}

function setExtensionSecret(ext) {
  editingExt = ext;
  const dialog = document.getElementById("ext-secret-dialog");
  dialog.querySelector("form").reset();
  document.getElementById("ext-secret-title").textContent = t("ext.secret.title", { number: ext.number });
  openDialog(dialog);
}

function bindExtensionSecretDialog() {
  const dialog = document.getElementById("ext-secret-dialog");
  const form = dialog.querySelector("form");
  clearErrorOnInput(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const ext = editingExt;
    if (!validateExtensionForm(form, { secret: "secret" }, ext.number)) return;
    const submit = document.getElementById("ext-secret-submit");
    setBusy(submit, true);
    try {
      await api.post(`/extensions/${encodeURIComponent(ext.number)}/secret`, { secret: form.elements.secret.value });
      dialog.close();
      // The secret is not kept in the page once the server has it.
      form.reset();
      toast(t("ext.secret.done", { number: ext.number }));
    } catch (err) {
      showApiError(form, err);
      if (err instanceof ApiError && err.status === 404) loadExtensions();
    } finally {
      setBusy(submit, false);
    }
  });
  // Closing without saving forgets the secret as well.
  dialog.addEventListener("close", () => form.reset());
}

function deleteExtension(ext) {
  editingExt = ext;
  const dialog = document.getElementById("ext-delete-dialog");
  document.getElementById("ext-delete-body").textContent = t("ext.delete.body", { number: ext.number });
  openDialog(dialog);
  // Focus Cancel, not Delete: Enter must not destroy by accident.
  dialog.querySelector("[data-close]").focus();
}

function bindExtensionDeleteDialog() {
  const dialog = document.getElementById("ext-delete-dialog");
  const form = dialog.querySelector("form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const ext = editingExt;
    const submit = document.getElementById("ext-delete-ok");
    setBusy(submit, true, "");
    try {
      await api.del(`/extensions/${encodeURIComponent(ext.number)}`);
      dialog.close();
      toast(t("ext.deleted", { number: ext.number }));
      onExtensionEvent({ type: "extension.deleted", data: { number: ext.number } });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        dialog.close();
        loadExtensions();
      } else {
        showApiError(form, err);
      }
    } finally {
      setBusy(submit, false);
    }
  });
}

// ---------- Calls ----------

function setupCalls() {
  for (const button of document.querySelectorAll("#panel-calls button[data-range]")) {
    button.addEventListener("click", () => {
      callsRange = button.dataset.range;
      for (const b of document.querySelectorAll("#panel-calls button[data-range]")) {
        b.setAttribute("aria-pressed", String(b === button));
      }
      cdrs = null;
      renderCalls();
      loadCalls();
    });
  }
  document.getElementById("calls-refresh").addEventListener("click", loadCalls);
  renderCalls();
}

function callsVisible() {
  return !document.getElementById("panel-calls").hidden;
}

async function loadCalls() {
  const seq = ++callsLoadSeq;
  const q = cdrQuery(callsRange, CALLS_LIMIT);
  const button = document.getElementById("calls-refresh");
  button.disabled = true;
  try {
    const data = await api.get(`/cdrs?${q}`);
    if (seq !== callsLoadSeq) return; // the period changed meanwhile
    cdrs = (data && data.cdrs) || [];
    renderCalls();
  } catch (err) {
    if (seq === callsLoadSeq) toast(errorText(err), "error");
  } finally {
    if (seq === callsLoadSeq) button.disabled = false;
  }
}

function scheduleCallsReload() {
  clearTimeout(callsReloadTimer);
  callsReloadTimer = setTimeout(loadCalls, 250);
}

// A finished call's record is on disk before call.ended is sent
// (docs/events.md), so the list can be read again at once. Yesterday's
// list cannot change.
function onCallEnded() {
  if (callsRange === "yesterday") return;
  if (callsVisible()) scheduleCallsReload();
  else cdrs = null;
}

// RESULT_BADGES colour a call's result: answered green, the caller's or
// callee's choice amber, a failure red.
const RESULT_BADGES = {
  answered: "badge badge-ok",
  busy: "badge badge-warn",
  no_answer: "badge badge-warn",
  cancelled: "badge badge-warn",
  rejected: "badge badge-warn",
  unavailable: "badge badge-bad",
  failed: "badge badge-bad",
};

// translated is t(key), or shows raw when there is no translation: the
// server may name results and causes this page does not know yet.
function translated(key, raw) {
  const s = t(key);
  return s === key ? raw : s;
}

function renderCalls() {
  const body = document.getElementById("calls-body");
  const count = document.getElementById("calls-count");
  if (!body || !count) return;
  if (cdrs === null) {
    count.textContent = "";
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 6 }, t("common.loading"))));
    return;
  }
  count.textContent = t(cdrs.length === 1 ? "calls.count.one" : "calls.count", { count: cdrs.length, limit: CALLS_LIMIT });
  if (cdrs.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 6 }, t("calls.empty"))));
    return;
  }
  body.replaceChildren(
    ...cdrs.map((c) => {
      const talk = talkTime(c);
      const cause = c.cause ? translated(`calls.cause.${c.cause}`, c.cause) : "";
      const by = c.hangup_by ? translated(`calls.hangupBy.${c.hangup_by}`, c.hangup_by) : "";
      return el(
        "tr",
        { dataset: { serial: c.serial || "" } },
        el("td", { className: "muted nowrap" }, formatDateTime(c.start, { seconds: true })),
        el(
          "td",
          { className: "nowrap parties" },
          el("span", { className: "mono", dataset: { role: "caller" } }, c.caller || ""),
          c.caller_name ? el("span", { className: "muted" }, ` ${c.caller_name}`) : null,
          el("span", { className: "arrow", "aria-hidden": "true" }, " → "),
          el("span", { className: "mono", dataset: { role: "callee" } }, c.callee || ""),
        ),
        el(
          "td",
          { dataset: { result: c.result || "" } },
          el("span", { className: RESULT_BADGES[c.result] || "badge badge-bad" }, translated(`calls.result.${c.result}`, c.result || "")),
        ),
        el(
          "td",
          { className: "nowrap" },
          talk === null ? el("span", { className: "muted" }, t("calls.notAnswered")) : formatDuration(talk),
        ),
        el("td", { className: "nowrap", title: c.cause || "" }, cause, by ? el("span", { className: "muted" }, ` · ${by}`) : null),
        el("td", { className: "mono muted nowrap" }, c.serial || ""),
      );
    }),
  );
}

// ---------- System settings ----------

function setupSystem() {
  const form = document.getElementById("system-form");
  document.getElementById("system-version").textContent = shell.branding.version || "—";
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!validateForm(form, { title: "text64" })) return;
    const submit = document.getElementById("system-save");
    setBusy(submit, true);
    try {
      const saved = await api.put("/settings/system", { title: form.elements.title.value.trim() });
      const title = (saved && saved.title) || form.elements.title.value.trim();
      form.elements.title.value = title;
      shell.setTitle(title);
      toast(t("system.saved"));
    } catch (err) {
      showApiError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
  loadSettings();
}

async function loadSettings() {
  try {
    const s = await api.get("/settings/system");
    showTitle(s && s.title);
  } catch (err) {
    toast(errorText(err), "error");
  }
}

// showTitle puts the saved title in the form, unless the admin is typing.
function showTitle(title) {
  if (typeof title !== "string") return;
  const input = document.getElementById("system-title-input");
  if (document.activeElement !== input) input.value = title;
}

// ---------- Login log ----------

function setupLoginLog() {
  document.getElementById("login-log-refresh").addEventListener("click", loadLog);
}

async function loadLog() {
  const button = document.getElementById("login-log-refresh");
  button.disabled = true;
  try {
    const data = await api.get(`/login-log?limit=${LOG_LIMIT}`);
    logEntries = (data && data.entries) || [];
    renderLog();
  } catch (err) {
    toast(errorText(err), "error");
  } finally {
    button.disabled = false;
  }
}

const SUCCESS_RESULTS = new Set(["ok"]); // store.LoginOK

function resultBadge(result) {
  const ok = SUCCESS_RESULTS.has(result);
  const key = ok ? "log.result.success" : `log.result.${result}`;
  const label = t(key) === key ? result : t(key);
  return el("span", { className: ok ? "badge badge-ok" : "badge badge-bad" }, label);
}

function renderLog() {
  const body = document.getElementById("login-log-body");
  const count = document.getElementById("login-log-count");
  count.textContent = t("log.subtitle", { count: LOG_LIMIT });
  if (logEntries === null) {
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 5 }, t("common.loading"))));
    return;
  }
  if (logEntries.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 5 }, t("log.empty"))));
    return;
  }
  body.replaceChildren(
    ...logEntries.map((e) =>
      el(
        "tr",
        {},
        el("td", { className: "muted nowrap" }, formatDateTime(e.time, { seconds: true })),
        el("td", { className: "mono" }, e.user || ""),
        el("td", { className: "mono" }, e.address || ""),
        el("td", {}, resultBadge(e.result || "")),
        el("td", { className: "ua", title: e.user_agent || "" }, e.user_agent || ""),
      ),
    ),
  );
}
