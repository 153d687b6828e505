// Login page: branding, HTTPS notice, the sign-in form and its errors.

import { api, ApiError, safeNext } from "./api.js";
import { t, initI18n, onLanguageChange } from "./i18n.js";
import { bindThemeToggle, errorText } from "./ui.js";

const form = document.getElementById("login-form");
const username = document.getElementById("username");
const password = document.getElementById("password");
const submit = document.getElementById("login-submit");
const errorBox = document.getElementById("login-error");
const titleEl = document.getElementById("system-title");

let branding = {};
// The error on screen, kept as a function so a language switch re-words it.
let currentError = null;
let lockTimer = 0;
let lockUntil = 0;
let busy = false;

initI18n();
bindThemeToggle(document.getElementById("theme-toggle"));
renderTitle();
onLanguageChange(() => {
  renderTitle();
  renderError();
  renderSubmit();
});
showHttpsNotice();
loadBranding();
username.focus();
// body[data-ready] tells browser tests that the handlers are bound.
document.body.dataset.ready = "true";

form.addEventListener("submit", onSubmit);
for (const input of [username, password]) {
  input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
}

async function loadBranding() {
  try {
    branding = (await api.get("/branding")) || {};
  } catch {
    branding = {};
  }
  renderTitle();
  showHttpsNotice();
  const version = document.getElementById("version");
  if (version && branding.version) version.textContent = `${title()} ${branding.version}`;
}

function title() {
  return branding.title || t("app.fallbackTitle");
}

function renderTitle() {
  titleEl.textContent = title();
  document.title = title();
}

// showHttpsNotice warns that the softphone's microphone needs HTTPS and
// links to the same page on the HTTPS address.
function showHttpsNotice() {
  if (window.isSecureContext) return;
  document.getElementById("https-notice").hidden = false;
  const link = document.getElementById("https-link");
  if (branding.https_url) {
    link.href = branding.https_url.replace(/\/+$/, "") + location.pathname + location.search;
    link.hidden = false;
  }
}

function setError(fn) {
  currentError = fn;
  renderError();
}

function renderError() {
  errorBox.textContent = currentError ? currentError() : "";
}

function renderSubmit() {
  submit.textContent = t(busy ? "login.submitting" : "login.submit");
  submit.disabled = busy || lockUntil > Date.now();
}

async function onSubmit(ev) {
  ev.preventDefault();
  if (busy || lockUntil > Date.now()) return;
  setError(null);
  username.removeAttribute("aria-invalid");
  password.removeAttribute("aria-invalid");

  const name = username.value.trim();
  if (!name) return fieldError("username");
  if (!password.value) return fieldError("password");

  busy = true;
  renderSubmit();
  try {
    await api.post("/login", { username: name, password: password.value });
    const next = new URLSearchParams(location.search).get("next");
    location.assign(safeNext(next));
    return; // keep the button disabled while the next page loads
  } catch (err) {
    busy = false;
    handleError(err);
  }
  renderSubmit();
}

function fieldError(field) {
  const input = field === "password" ? password : username;
  input.setAttribute("aria-invalid", "true");
  input.focus();
  setError(() => t(field === "password" ? "login.error.missingPassword" : "login.error.missingUsername"));
}

function handleError(err) {
  if (!(err instanceof ApiError)) return setError(() => t("error.unknown"));
  if (err.code === "locked" || err.status === 429) return startLock(err.retryAfter || 60);
  if (err.code === "bad_credentials" || err.status === 401) {
    password.value = "";
    password.focus();
    return setError(() => t("login.error.badCredentials"));
  }
  if (err.status === 400 && (err.field === "username" || err.field === "password")) {
    return fieldError(err.field);
  }
  setError(() => errorText(err));
}

// startLock shows the lock message with a live countdown and keeps the
// form disabled until retry_after has passed.
function startLock(seconds) {
  lockUntil = Date.now() + seconds * 1000;
  const remaining = () => Math.max(0, Math.ceil((lockUntil - Date.now()) / 1000));
  setError(() => t("login.error.locked", { seconds: remaining() }));
  renderSubmit();
  clearInterval(lockTimer);
  lockTimer = setInterval(() => {
    if (remaining() <= 0) {
      clearInterval(lockTimer);
      lockUntil = 0;
      setError(null);
      renderSubmit();
      password.focus();
      return;
    }
    renderError();
  }, 1000);
}
