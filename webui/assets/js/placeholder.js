// Placeholder for pages that arrive in a later release (/workbench,
// /wallboard, /reports): names the page and links back home.

import { api, loadMe } from "./api.js";
import { t, initI18n, onLanguageChange, adoptAccountLanguage } from "./i18n.js";
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
document.body.dataset.ready = "true";

// These pages are for signed-in users: loadMe sends anyone else to the
// login page, which brings them back here.
const [me, branding] = await Promise.allSettled([loadMe(), api.get("/branding")]);
if (me.status === "fulfilled") adoptAccountLanguage(me.value.language);
if (branding.status === "fulfilled") systemTitle = (branding.value && branding.value.title) || "";
render();

function render() {
  const title = systemTitle || t("app.fallbackTitle");
  const heading = page ? t(`tile.${page}.title`) : t("placeholder.pageTitle");
  document.getElementById("system-title").textContent = title;
  document.getElementById("placeholder-title").textContent = heading;
  document.title = `${heading} · ${title}`;
}
