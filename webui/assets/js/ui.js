// Small shared widgets: theme toggle, toasts, dialogs, form error display
// and the mapping from an ApiError to a sentence for the user.

import { ApiError } from "./api.js";
import { t, onLanguageChange } from "./i18n.js";

const THEME_KEY = "ccbox.theme";

const ICON_MOON =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z"/></svg>';
const ICON_SUN =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true"><circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/></svg>';

function isDark() {
  return document.documentElement.getAttribute("data-theme") === "dark";
}

// bindThemeToggle makes button switch between the light and dark themes;
// theme.js has already applied the saved one.
export function bindThemeToggle(button) {
  if (!button) return;
  const render = () => {
    const dark = isDark();
    button.innerHTML = dark ? ICON_SUN : ICON_MOON;
    const label = t(dark ? "theme.toLight" : "theme.toDark");
    button.setAttribute("aria-label", label);
    button.title = label;
  };
  button.addEventListener("click", () => {
    const dark = !isDark();
    if (dark) document.documentElement.setAttribute("data-theme", "dark");
    else document.documentElement.removeAttribute("data-theme");
    try {
      localStorage.setItem(THEME_KEY, dark ? "dark" : "light");
    } catch {
      // The theme then lasts for this page only.
    }
    render();
  });
  onLanguageChange(render);
  render();
}

// toast shows a short message under the header for a few seconds.
export function toast(message, kind = "info") {
  let region = document.getElementById("toasts");
  if (!region) {
    region = document.createElement("div");
    region.id = "toasts";
    region.className = "toast-region";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  const el = document.createElement("div");
  el.className = kind === "error" ? "toast toast-error" : "toast";
  el.textContent = message;
  region.append(el);
  // Keep the newest few; a burst of actions must not cover the page.
  while (region.children.length > 3) region.firstElementChild.remove();
  setTimeout(() => el.remove(), kind === "error" ? 6000 : 3500);
}

// errorText turns any thrown value into a sentence in the current language.
export function errorText(err) {
  if (!(err instanceof ApiError)) return t("error.unknown");
  if (err.isNetwork) return t("error.network");
  // Codes from docs/api.md; each has a sentence in both languages.
  switch (err.code) {
    case "exists":
      return t("error.exists");
    case "bad_credentials":
      return t("login.error.badCredentials");
    case "forbidden":
      return t("error.forbidden");
    case "csrf":
      return t("error.csrf");
    case "conflict":
      return t("error.conflict");
    case "last_admin":
      return t("error.lastAdmin");
    case "disabled":
      return t("error.disabled");
    case "not_found":
      return t("error.notFound");
    case "number_taken":
      // The server's message names the holder ("1001 is already extension
      // 1001"), which the admin needs to resolve the clash.
      return t("error.numberTaken", { detail: err.message || "" });
  }
  if (err.status === 403) return t("error.forbidden");
  if (err.status === 404) return t("error.notFound");
  if (err.status >= 500) return t("error.server", { status: err.status });
  // A field the client did not check itself: the server's own words.
  return err.message && err.message !== err.code ? err.message : t("error.unknown");
}

// clearErrors removes every error shown in form.
export function clearErrors(form) {
  for (const el of form.querySelectorAll("[data-error-for]")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const general = form.querySelector(".form-error");
  if (general) {
    general.textContent = "";
    general.hidden = true;
  }
}

// showFieldError puts message beside the control named field and focuses
// it; without such a control the message goes to the form's general area.
export function showFieldError(form, field, message) {
  const slot = field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
  const control = field && form.elements.namedItem(field);
  if (slot) {
    slot.textContent = message;
    if (control && control.setAttribute) {
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
    return;
  }
  showFormError(form, message);
}

export function showFormError(form, message) {
  const general = form.querySelector(".form-error");
  if (general) {
    general.textContent = message;
    general.hidden = false;
  } else {
    toast(message, "error");
  }
}

// showApiError shows err next to the field it names, or for the whole form.
export function showApiError(form, err) {
  if (err instanceof ApiError && err.field) showFieldError(form, err.field, errorText(err));
  else showFormError(form, errorText(err));
}

// RULES are the server's rules for values (docs/api.md), checked before
// sending so that the message is in the page's language. Each returns an
// i18n key, or "" when the value is acceptable.
const RULES = {
  required: (v) => (v.trim() ? "" : "error.required"),
  userName: (v) => (!v.trim() ? "error.required" : /^[a-z0-9][a-z0-9._-]{0,31}$/.test(v.trim()) ? "" : "error.userName"),
  password: (v) => {
    if (!v) return "error.required";
    if (!v.trim()) return "error.passwordBlank";
    if (Array.from(v).length < 8) return "error.passwordShort";
    if (new TextEncoder().encode(v).length > 72) return "error.passwordLong";
    return "";
  },
  text64: (v) => (Array.from(v.trim()).length > 64 ? "error.textTooLong" : ""),
  extNumber: (v) => (!v.trim() ? "error.required" : /^[1-9][0-9]{1,7}$/.test(v.trim()) ? "" : "error.extNumber"),
  agentNumber: (v) => (!v.trim() || /^[0-9]{2,12}$/.test(v.trim()) ? "" : "error.agentNumber"),
  // A SIP secret is counted in bytes, as the server does.
  secret: (v) => {
    if (!v) return "error.required";
    const bytes = new TextEncoder().encode(v).length;
    if (bytes < 8) return "error.secretShort";
    if (bytes > 128) return "error.secretLong";
    return "";
  },
  // Empty means the default.
  maxCalls: (v) => (!v.trim() || (/^[0-9]{1,3}$/.test(v.trim()) && Number(v) <= 100) ? "" : "error.maxCalls"),
  // A forward target: empty (off), or 2-20 digits after an optional +.
  forward: (v) => (!v.trim() || /^\+?[0-9]{2,20}$/.test(v.trim()) ? "" : "error.forward"),
  // Ring time before the no-answer forward: empty or 0 (the default), or 5-300.
  ringSeconds: (v) => {
    const s = v.trim();
    if (!s || s === "0") return "";
    return /^[0-9]{1,3}$/.test(s) && Number(s) >= 5 && Number(s) <= 300 ? "" : "error.ringSeconds";
  },
  pickupGroup: (v) => (/^[A-Za-z0-9_-]{0,32}$/.test(v.trim()) ? "" : "error.pickupGroup"),
};

// validateForm checks named controls against RULES ({field: rule}), shows
// each problem beside its field and focuses the first; it reports whether
// every value passed.
export function validateForm(form, rules) {
  let first = null;
  for (const [name, rule] of Object.entries(rules)) {
    const control = form.elements.namedItem(name);
    if (!control) continue;
    const key = RULES[rule](String(control.value));
    if (!key) continue;
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) slot.textContent = t(key);
    control.setAttribute("aria-invalid", "true");
    first = first || control;
  }
  if (first) first.focus();
  return !first;
}

// setBusy disables a submit button while a request runs, swapping its label.
export function setBusy(button, busy, busyKey = "common.saving") {
  if (!button) return;
  if (busy) {
    button.dataset.idleKey = button.dataset.i18n || "";
    if (busyKey) {
      button.dataset.i18n = busyKey;
      button.textContent = t(busyKey);
    }
    button.disabled = true;
  } else {
    if (button.dataset.idleKey) {
      button.dataset.i18n = button.dataset.idleKey;
      button.textContent = t(button.dataset.idleKey);
    }
    button.disabled = false;
  }
}

// openDialog shows a <dialog> modally; any [data-close] inside closes it.
export function openDialog(dialog) {
  if (!dialog.dataset.bound) {
    dialog.dataset.bound = "1";
    for (const btn of dialog.querySelectorAll("[data-close]")) {
      btn.addEventListener("click", () => dialog.close());
    }
  }
  const form = dialog.querySelector("form");
  if (form) clearErrors(form);
  dialog.showModal();
  const first = dialog.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
  if (first) first.focus();
}

// el builds an element: el("td", {className: "x"}, "text", child...).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node && k !== "list") node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function roleLabel(role) {
  return ["admin", "supervisor", "agent"].includes(role) ? t(`role.${role}`) : role || "";
}
