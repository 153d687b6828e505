// The header of every signed-in page: system title, navigation, live
// connection indicator, language and theme switches, the signed-in user,
// the change-password dialog and sign-out.

import { api, loadMe, redirectToLogin, ApiError } from "./api.js";
import { EventStream } from "./events.js";
import { t, initI18n, onLanguageChange, adoptAccountLanguage } from "./i18n.js";
import {
  bindThemeToggle,
  clearErrors,
  openDialog,
  validateForm,
  roleLabel,
  setBusy,
  showApiError,
  showFieldError,
  toast,
} from "./ui.js";

// initShell loads the user and branding, wires the header and starts the
// event stream. pageTitleKey names the i18n key for this page's tab title.
// It resolves to {me, branding, events}; a signed-out visitor is sent to
// the login page instead.
export async function initShell({ pageTitleKey }) {
  initI18n();
  bindThemeToggle(document.getElementById("theme-toggle"));

  const [me, branding] = await Promise.all([loadMe(), loadBranding()]);
  adoptAccountLanguage(me.language);

  const state = { me, branding };
  const renderHeader = () => {
    const title = branding.title || t("app.fallbackTitle");
    for (const node of document.querySelectorAll("[data-system-title]")) node.textContent = title;
    document.title = `${t(pageTitleKey)} · ${title}`;
    const name = me.display_name || me.name;
    setText("me-name", name);
    setText("me-role", roleLabel(me.role));
    setText("me-avatar", initial(name));
    const adminLink = document.getElementById("nav-admin");
    if (adminLink) adminLink.hidden = me.role !== "admin";
  };
  renderHeader();
  onLanguageChange(renderHeader);

  bindLogout(document.getElementById("logout"));
  bindChangePassword(document.getElementById("change-password"), document.getElementById("password-dialog"));

  // A closed socket is retried only while /me still answers (loadMe sends
  // a signed-out user to the login page); a session the server ended
  // (close code 4001) goes straight there.
  const events = new EventStream({ beforeReconnect: () => loadMe(), onSessionEnd: redirectToLogin });
  bindWsStatus(document.getElementById("ws-status"), events);

  // setTitle updates every place the system title shows.
  const setTitle = (title) => {
    branding.title = title;
    renderHeader();
  };
  // The header follows the system title and the user's own record live.
  const updateMe = (u) => {
    if (!u || u.name !== me.name) return;
    for (const k of ["display_name", "role", "language"]) if (k in u) me[k] = u[k];
    renderHeader();
  };
  events.on("snapshot", (msg) => {
    const data = msg.data || {};
    if (data.system && "title" in data.system) setTitle(data.system.title);
    updateMe(data.me);
  });
  events.on("system.updated", (msg) => {
    if (msg.data && "title" in msg.data) setTitle(msg.data.title);
  });
  events.on("user.updated", (msg) => updateMe(msg.data));
  events.start();

  return { ...state, events, setTitle };
}

async function loadBranding() {
  try {
    return (await api.get("/branding")) || {};
  } catch {
    return {};
  }
}

function setText(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
}

function initial(name) {
  const ch = Array.from(String(name || "?").trim())[0] || "?";
  return ch.toUpperCase();
}

function bindWsStatus(node, events) {
  if (!node) return;
  const label = node.querySelector("[data-ws-label]");
  let status = events.status;
  const render = () => {
    node.dataset.state = status;
    if (label) label.textContent = t(`ws.${status}`);
    node.title = t(`ws.${status}Title`);
  };
  events.onStatus((s) => {
    status = s;
    render();
  });
  onLanguageChange(render);
}

function bindLogout(button) {
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api.post("/logout");
    } catch {
      // Signing out must always leave the page, even if the server is gone.
    }
    location.assign("/login");
  });
}

function bindChangePassword(button, dialog) {
  if (!button || !dialog) return;
  const form = dialog.querySelector("form");
  button.addEventListener("click", () => {
    form.reset();
    openDialog(dialog);
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!validateForm(form, { current_password: "required", new_password: "password", confirm_password: "required" })) return;
    const current = form.elements.current_password.value;
    const next = form.elements.new_password.value;
    if (next !== form.elements.confirm_password.value) {
      showFieldError(form, "confirm_password", t("error.mismatch"));
      return;
    }
    const submit = form.querySelector("[type=submit]");
    setBusy(submit, true);
    try {
      await api.put("/me/password", { current_password: current, new_password: next });
      dialog.close();
      toast(t("password.changed"));
    } catch (err) {
      if (err instanceof ApiError && err.code === "bad_credentials") {
        showFieldError(form, "current_password", t("password.wrongCurrent"));
      } else {
        showApiError(form, err);
      }
    } finally {
      setBusy(submit, false);
    }
  });
}
