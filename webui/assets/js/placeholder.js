// Placeholder for pages that arrive in a later release (/workbench,
// /wallboard, /reports): names the page and links back home.

import { api } from "./api.js";
import { t, initI18n, onLanguageChange } from "./i18n.js";
import { bindThemeToggle } from "./ui.js";
import { ICONS } from "./icons.js";

const KNOWN = ["workbench", "wallboard", "reports"];
const page = KNOWN.find((name) => location.pathname.replace(/\/+$/, "").endsWith(`/${name}`)) || "";

let systemTitle = "";

initI18n();
bindThemeToggle(document.getElementById("theme-toggle"));
document.getElementById("placeholder-icon").innerHTML = ICONS[page] || ICONS.clock;
render();
onLanguageChange(render);

try {
  systemTitle = (await api.get("/branding"))?.title || "";
} catch {
  // The fallback title is good enough for a placeholder.
}
render();

function render() {
  const title = systemTitle || t("app.fallbackTitle");
  const heading = page ? t(`tile.${page}.title`) : t("placeholder.pageTitle");
  document.getElementById("system-title").textContent = title;
  document.getElementById("placeholder-title").textContent = heading;
  document.title = `${heading} · ${title}`;
}
