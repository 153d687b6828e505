// Admin console: users (list, create, edit, reset password, delete),
// system settings and the login log. The user list follows user.* events
// so several admins see each other's changes.

import { api, ApiError } from "./api.js";
import { t, onLanguageChange, formatDateTime } from "./i18n.js";
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
const TABS = ["users", "system", "login-log"];

let shell;
let users = [];
let logEntries = null;
let reloadTimer = 0;

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
  setupSystem();
  setupLoginLog();
  onLanguageChange(() => {
    renderUsers();
    renderLog();
  });
  shell.events.on("snapshot", onSnapshot);
  shell.events.on("user.*", onUserEvent);
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
}

// A snapshot carries the whole user list (docs/events.md).
function onSnapshot(msg) {
  const list = msg.data && msg.data.users;
  if (Array.isArray(list)) setUsers(list);
  else scheduleUsersReload();
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
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colSpan: 7 }, t("users.empty"))));
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
  if (!validateForm(form, { name: "userName", display_name: "text64", password: "password" })) return;
  const body = {
    name: form.elements.name.value.trim(),
    display_name: form.elements.display_name.value.trim(),
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
    if (!validateForm(form, { display_name: "text64" })) return;
    const displayName = form.elements.display_name.value.trim();
    if (displayName !== (user.display_name || "")) patch.display_name = displayName;
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
