// Home page: a tile for each place the signed-in user's role may go.

import { t, onLanguageChange } from "./i18n.js";
import { initShell } from "./shell.js";
import { ICONS } from "./icons.js";
import { ApiError } from "./api.js";
import { el, errorText, toast } from "./ui.js";

// TILES_BY_ROLE lists the tiles each role sees, most used first.
// Every role may take calls in the browser, so every role has the softphone.
const TILES_BY_ROLE = {
  agent: ["softphone", "workbench"],
  supervisor: ["wallboard", "softphone", "workbench", "reports"],
  admin: ["admin", "wallboard", "reports", "workbench", "softphone"],
};

const HREF = {
  softphone: "/softphone",
  workbench: "/workbench",
  wallboard: "/wallboard",
  reports: "/reports",
  admin: "/admin",
};

try {
  const { me } = await initShell({ pageTitleKey: "home.pageTitle" });
  const render = () => {
    document.getElementById("welcome").textContent = t("home.welcome", { name: me.display_name || me.name });
    renderTiles(TILES_BY_ROLE[me.role] || []);
  };
  render();
  onLanguageChange(render);
  document.body.dataset.ready = "true";
} catch (err) {
  // A signed-out visitor is already on the way to the login page.
  if (!(err instanceof ApiError && err.status === 401)) toast(errorText(err), "error");
}

function renderTiles(names) {
  const tiles = names.map((name) => {
    const icon = el("span", { className: "tile-icon" });
    icon.innerHTML = ICONS[name];
    return el(
      "a",
      { className: "tile", href: HREF[name], dataset: { tile: name } },
      icon,
      el("h2", {}, t(`tile.${name}.title`)),
      el("p", {}, t(`tile.${name}.desc`)),
      el("span", { className: "tile-go", "aria-hidden": "true" }, `${t("home.open")} →`),
    );
  });
  document.getElementById("tiles").replaceChildren(...tiles);
}
