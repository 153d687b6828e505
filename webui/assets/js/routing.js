// "Numbers & routes" and "Call guards" tabs of the admin console
// (docs/trunks.md): the DIDs and the inbound default, the outbound routes
// in the order they are tried, the caller-number pools, the blacklist, the
// outbound policy (toll-fraud guard) and the region table. Each list
// reloads on its own events (did.*, route.*, caller_pool.*, blacklist.*,
// outbound_policy.*, regions.*), so admins see each other's changes.

import { api, ApiError, API_BASE } from "./api.js";
import { t, onLanguageChange, formatDateTime, getLanguage } from "./i18n.js";
import { getTrunks, onTrunksChange, NAME_RE, splitList, readCount, showError, fieldError, clearOnInput, showFor, confirmDelete } from "./trunks.js";
import { clearErrors, el, errorText, openDialog, roleLabel, setBusy, showFormError, toast } from "./ui.js";

// DEFAULT_EMERGENCY always go out (store.DefaultEmergency); the form edits
// only the numbers added beside them.
const DEFAULT_EMERGENCY = ["110", "119", "120", "122"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MAX_BLACKLIST_NUMBER = 20;
const MAX_BLACKLIST_DESCRIPTION = 50;

// loader loads one list from the API, keeps only the newest answer, and
// coalesces bursts of events into one reload.
function loader(fetch, apply) {
  let seq = 0;
  let timer = 0;
  const load = async () => {
    const mine = ++seq;
    try {
      const data = await fetch();
      if (mine === seq) apply(data);
    } catch (err) {
      if (mine === seq) toast(errorText(err), "error");
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(load, 150);
  };
  return { load, schedule };
}

const byName = (a, b) => a.name.localeCompare(b.name);

// actionButton is a row's link-style button.
function actionButton(action, key, data, extra = "", label = "") {
  return el(
    "button",
    { type: "button", className: `btn btn-link ${extra}`.trim(), dataset: { action, ...data }, "aria-label": label || undefined },
    t(key),
  );
}

function emptyRow(cols, key) {
  return el("tr", {}, el("td", { className: "empty", colSpan: cols }, t(key)));
}

// ---------- Numbers & routes ----------

let extensions = [];
let dids = [];
let routes = [];
let pools = [];
let editingDID = null;
let editingRoute = null;
let editingPool = null;

const extensionList = loader(
  () => api.get("/extensions"),
  (data) => {
    extensions = ((data && data.extensions) || []).slice().sort((a, b) => a.number.localeCompare(b.number, "en", { numeric: true }));
    renderExtensionSelects();
  },
);
const didList = loader(
  () => api.get("/dids"),
  (data) => {
    dids = ((data && data.dids) || []).slice().sort((a, b) => a.number.localeCompare(b.number));
    renderDIDs();
  },
);
const routeList = loader(
  () => api.get("/outbound-routes"),
  (data) => {
    routes = (data && data.outbound_routes) || [];
    renderRoutes();
  },
);
const poolList = loader(
  () => api.get("/caller-pools"),
  (data) => {
    pools = ((data && data.caller_pools) || []).slice().sort(byName);
    renderPools();
    renderPoolSelects();
  },
);
const inboundDefault = loader(
  async () => {
    try {
      return await api.get("/inbound-default");
    } catch (err) {
      // 404: no default; such calls are refused.
      if (err instanceof ApiError && err.status === 404) return { type: "none" };
      throw err;
    }
  },
  (d) => showInboundDefault(d || { type: "none" }),
);

export function setupRouting(events) {
  bindDIDs();
  bindInboundDefault();
  bindRoutes();
  bindPools();
  onTrunksChange(renderTrunkChoices);
  renderTrunkChoices();
  events.on("snapshot", () => {
    for (const l of [extensionList, didList, routeList, poolList, inboundDefault]) l.schedule();
  });
  events.on("extension.*", () => extensionList.schedule());
  events.on("did.*", () => didList.schedule());
  events.on("route.*", () => routeList.schedule());
  events.on("caller_pool.*", () => poolList.schedule());
  events.on("inbound_default.*", () => inboundDefault.schedule());
  onLanguageChange(() => {
    renderExtensionSelects();
    renderTrunkChoices();
    renderPoolSelects();
    renderDIDs();
    renderRoutes();
    renderPools();
  });
  for (const l of [extensionList, didList, routeList, poolList, inboundDefault]) l.load();
}

// fillSelect replaces a <select>'s options, keeping its value (even one
// the list no longer has, so an edit does not change it silently).
function fillSelect(select, options) {
  const value = select.value;
  const values = options.map(([v]) => v);
  if (value && !values.includes(value)) options = [...options, [value, value]];
  select.replaceChildren(...options.map(([v, label]) => el("option", { value: v }, label)));
  select.value = value;
}

function extensionLabel(number) {
  const e = extensions.find((x) => x.number === number);
  return e && e.name ? `${number} ${e.name}` : number;
}

function renderExtensionSelects() {
  for (const select of document.querySelectorAll("select[data-extension-select]")) {
    fillSelect(select, [["", t("dest.choose")], ...extensions.map((e) => [e.number, extensionLabel(e.number)])]);
  }
}

function renderTrunkChoices() {
  const names = getTrunks().map((x) => x.name);
  for (const select of document.querySelectorAll("select[data-trunk-select]")) {
    fillSelect(select, [["", t("dids.anyTrunk")], ...names.map((n) => [n, n])]);
  }
  const hint = document.getElementById("route-trunks-hint");
  hint.textContent = names.length ? t("routes.field.trunksHint", { names: names.join(", ") }) : t("routes.field.trunksNone");
}

function renderPoolSelects() {
  for (const select of document.querySelectorAll("select[data-pool-select]")) {
    fillSelect(select, [["", t("routes.choosePool")], ...pools.map((p) => [p.name, p.name])]);
  }
}

function destinationLabel(d) {
  if (!d || !d.type) return "";
  if (d.type === "extension") return t("dest.toExtension", { target: extensionLabel(d.target || "") });
  if (d.type === "hangup") return t("dest.hangup");
  return d.target ? `${d.type} ${d.target}` : d.type;
}

// ----- DIDs -----

function bindDIDs() {
  const dialog = document.getElementById("did-dialog");
  const form = dialog.querySelector("form");
  clearOnInput(form);
  form.elements["destination.type"].addEventListener("change", () => showFor(form, form.elements["destination.type"].value));
  document.getElementById("did-new").addEventListener("click", () => openDIDDialog(null));
  document.getElementById("dids-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const did = dids.find((d) => d.number === button.dataset.did);
    if (!did) return;
    if (button.dataset.action === "edit") openDIDDialog(did);
    else if (button.dataset.action === "delete") {
      confirmDelete(t("dids.delete.title"), t("dids.delete.body", { number: did.number }), async () => {
        await api.del(`/dids/${encodeURIComponent(did.number)}`);
        toast(t("dids.deleted", { number: did.number }));
        didList.load();
      });
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const e = form.elements;
    const number = e.number.value.trim();
    if (!editingDID && !number) return fieldError(form, "number", "error.required");
    const type = e["destination.type"].value;
    const destination = { type };
    if (type === "extension") {
      if (!e["destination.target"].value) return fieldError(form, "destination.target", "dest.error.extension");
      destination.target = e["destination.target"].value;
    }
    const body = { trunk: e.trunk.value, destination, description: e.description.value.trim() };
    const submit = document.getElementById("did-submit");
    setBusy(submit, true);
    try {
      const saved = editingDID
        ? await api.patch(`/dids/${encodeURIComponent(editingDID.number)}`, body)
        : await api.post("/dids", { number, ...body });
      dialog.close();
      toast(t(editingDID ? "dids.updated" : "dids.created", { number: (saved && saved.number) || number }));
      didList.load();
    } catch (err) {
      showError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
}

function openDIDDialog(did) {
  editingDID = did;
  const dialog = document.getElementById("did-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  renderTrunkChoices();
  renderExtensionSelects();
  document.getElementById("did-dialog-title").textContent = did ? t("dids.edit.title", { number: did.number }) : t("dids.create.title");
  const e = form.elements;
  e.number.value = did ? did.number : "";
  e.number.disabled = !!did;
  e.trunk.value = did ? did.trunk || "" : "";
  const type = did && did.destination ? did.destination.type : "extension";
  e["destination.type"].value = type;
  e["destination.target"].value = did && did.destination ? did.destination.target || "" : "";
  e.description.value = did ? did.description || "" : "";
  showFor(form, type);
  openDialog(dialog);
}

function renderDIDs() {
  const body = document.getElementById("dids-body");
  document.getElementById("dids-count").textContent = t("dids.count", { count: dids.length });
  if (dids.length === 0) return body.replaceChildren(emptyRow(5, "dids.empty"));
  body.replaceChildren(
    ...dids.map((d) =>
      el(
        "tr",
        { dataset: { did: d.number } },
        el("td", {}, el("span", { className: "mono" }, d.number)),
        el("td", {}, d.trunk ? el("span", { className: "mono" }, d.trunk) : el("span", { className: "muted" }, t("dids.anyTrunk"))),
        el("td", { dataset: { col: "destination" } }, destinationLabel(d.destination)),
        el("td", {}, d.description || ""),
        el(
          "td",
          { className: "actions" },
          actionButton("edit", "common.edit", { did: d.number }),
          actionButton("delete", "common.delete", { did: d.number }, "danger"),
        ),
      ),
    ),
  );
}

// ----- Inbound default -----

function bindInboundDefault() {
  const form = document.getElementById("inbound-default-form");
  clearOnInput(form);
  form.elements.type.addEventListener("change", () => showFor(form, form.elements.type.value));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const type = form.elements.type.value;
    const body = { type };
    if (type === "extension") {
      if (!form.elements.target.value) return fieldError(form, "target", "dest.error.extension");
      body.target = form.elements.target.value;
    }
    const submit = document.getElementById("inbound-save");
    setBusy(submit, true);
    try {
      await api.put("/inbound-default", body);
      toast(t("inbound.saved"));
    } catch (err) {
      showError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
}

function showInboundDefault(d) {
  const form = document.getElementById("inbound-default-form");
  renderExtensionSelects();
  form.elements.type.value = d.type || "none";
  const target = form.elements.target;
  if (d.target && ![...target.options].some((o) => o.value === d.target)) target.append(el("option", { value: d.target }, d.target));
  target.value = d.target || "";
  showFor(form, form.elements.type.value);
}

// ----- Outbound routes -----

function callerLabel(c) {
  const mode = (c && c.mode) || "extension";
  if (mode === "fixed") return `${t("routes.caller.fixed")} ${c.number || ""}`;
  if (mode === "pool_region") return `${t("routes.caller.pool_region")} ${c.pool || ""}`;
  return t("routes.caller.extension");
}

function allowedLabel(r) {
  const parts = [];
  if (r.allow_extensions && r.allow_extensions.length) parts.push(r.allow_extensions.join(", "));
  if (r.allow_roles && r.allow_roles.length) parts.push(r.allow_roles.map(roleLabel).join(", "));
  return parts.length ? parts.join(" · ") : t("routes.everyone");
}

function renderRoutes() {
  const body = document.getElementById("routes-body");
  if (routes.length === 0) return body.replaceChildren(emptyRow(7, "routes.empty"));
  body.replaceChildren(
    ...routes.map((r, i) =>
      el(
        "tr",
        { dataset: { route: r.name } },
        el("td", { className: "nowrap" }, String(i + 1)),
        el("td", {}, el("span", { className: "mono" }, r.name)),
        el("td", { className: "mono" }, (r.patterns || []).join(", ")),
        el("td", { className: "mono" }, (r.trunks || []).join(" → ")),
        el("td", {}, callerLabel(r.caller_number)),
        el("td", {}, allowedLabel(r)),
        el(
          "td",
          { className: "actions" },
          el(
            "button",
            { type: "button", className: "btn btn-ghost btn-sm move", dataset: { action: "up", route: r.name }, disabled: i === 0, "aria-label": t("routes.moveUp", { name: r.name }), title: t("routes.moveUp", { name: r.name }) },
            "↑",
          ),
          el(
            "button",
            { type: "button", className: "btn btn-ghost btn-sm move", dataset: { action: "down", route: r.name }, disabled: i === routes.length - 1, "aria-label": t("routes.moveDown", { name: r.name }), title: t("routes.moveDown", { name: r.name }) },
            "↓",
          ),
          actionButton("edit", "common.edit", { route: r.name }),
          actionButton("delete", "common.delete", { route: r.name }, "danger"),
        ),
      ),
    ),
  );
}

async function moveRoute(name, step) {
  const names = routes.map((r) => r.name);
  const i = names.indexOf(name);
  const j = i + step;
  if (i < 0 || j < 0 || j >= names.length) return;
  [names[i], names[j]] = [names[j], names[i]];
  try {
    const data = await api.put("/outbound-routes/order", { names });
    const list = Array.isArray(data) ? data : data && data.outbound_routes;
    if (Array.isArray(list)) {
      routes = list;
      renderRoutes();
    } else {
      routeList.load();
    }
    const button = document.querySelector(`#routes-body button[data-action="${step < 0 ? "up" : "down"}"][data-route="${CSS.escape(name)}"]`);
    if (button && !button.disabled) button.focus();
  } catch (err) {
    toast(errorText(err), "error");
    routeList.load();
  }
}

function bindRoutes() {
  const dialog = document.getElementById("route-dialog");
  const form = dialog.querySelector("form");
  clearOnInput(form);
  const mode = form.elements["caller_number.mode"];
  mode.addEventListener("change", () => showFor(form, mode.value));
  document.getElementById("route-new").addEventListener("click", () => openRouteDialog(null));
  document.getElementById("routes-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const route = routes.find((r) => r.name === button.dataset.route);
    if (!route) return;
    switch (button.dataset.action) {
      case "up":
        return moveRoute(route.name, -1);
      case "down":
        return moveRoute(route.name, 1);
      case "edit":
        return openRouteDialog(route);
      case "delete":
        return confirmDelete(t("routes.delete.title"), t("routes.delete.body", { name: route.name }), async () => {
          await api.del(`/outbound-routes/${encodeURIComponent(route.name)}`);
          toast(t("routes.deleted", { name: route.name }));
          routeList.load();
        });
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const e = form.elements;
    const name = e.name.value.trim();
    if (!editingRoute && !NAME_RE.test(name)) return fieldError(form, "name", "rt.error.name");
    const strip = readCount(e.strip);
    if (Number.isNaN(strip)) return fieldError(form, "strip", "rt.error.wholeNumber");
    const callerNumber = { mode: mode.value };
    if (mode.value === "fixed") callerNumber.number = e["caller_number.number"].value.trim();
    if (mode.value === "pool_region") callerNumber.pool = e["caller_number.pool"].value;
    const body = {
      patterns: e.patterns.value.split("\n").map((s) => s.trim()).filter(Boolean),
      strip,
      prepend: e.prepend.value.trim(),
      trunks: splitList(e.trunks.value),
      allow_extensions: splitList(e.allow_extensions.value),
      allow_roles: [...form.querySelectorAll('input[name="allow_roles"]:checked')].map((c) => c.value),
      caller_number: callerNumber,
    };
    const submit = document.getElementById("route-submit");
    setBusy(submit, true);
    try {
      if (editingRoute) await api.patch(`/outbound-routes/${encodeURIComponent(editingRoute.name)}`, body);
      else await api.post("/outbound-routes", { name, ...body });
      dialog.close();
      toast(t(editingRoute ? "routes.updated" : "routes.created", { name: editingRoute ? editingRoute.name : name }));
      routeList.load();
    } catch (err) {
      if (err instanceof ApiError && err.code === "exists") fieldError(form, "name", "rt.error.exists");
      else showError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
}

function openRouteDialog(route) {
  editingRoute = route;
  const dialog = document.getElementById("route-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  renderTrunkChoices();
  renderPoolSelects();
  document.getElementById("route-dialog-title").textContent = route ? t("routes.edit.title", { name: route.name }) : t("routes.create.title");
  const e = form.elements;
  const r = route || {};
  e.name.value = r.name || "";
  e.name.disabled = !!route;
  e.patterns.value = (r.patterns || []).join("\n");
  e.strip.value = r.strip > 0 ? String(r.strip) : "";
  e.prepend.value = r.prepend || "";
  e.trunks.value = (r.trunks || []).join(", ");
  e.allow_extensions.value = (r.allow_extensions || []).join(", ");
  for (const c of form.querySelectorAll('input[name="allow_roles"]')) c.checked = (r.allow_roles || []).includes(c.value);
  const c = r.caller_number || {};
  e["caller_number.mode"].value = c.mode || "extension";
  e["caller_number.number"].value = c.number || "";
  const pool = e["caller_number.pool"];
  if (c.pool && ![...pool.options].some((o) => o.value === c.pool)) pool.append(el("option", { value: c.pool }, c.pool));
  pool.value = c.pool || "";
  showFor(form, e["caller_number.mode"].value);
  openDialog(dialog);
}

// ----- Caller pools -----

// poolText writes a pool's numbers one a line: "number,max_calls", with
// the region after them when one was set by hand.
function poolText(numbers) {
  return (numbers || [])
    .map((n) => {
      const parts = [n.number, String(n.max_calls || 0)];
      if (n.province || n.city) parts.push(n.province || "", n.city || "");
      return parts.join(",");
    })
    .join("\n");
}

// readPool reads the numbers typed one a line: "number[,max_calls[,province[,city]]]";
// null after showing a line's problem.
function readPool(form) {
  const lines = form.elements.numbers.value.split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const [number, max, province = "", city = ""] = line.split(/[,，]/).map((s) => s.trim());
    let maxCalls = 0;
    if (max) {
      if (!/^[0-9]+$/.test(max)) {
        fieldError(form, "numbers", "rt.lineError", { line: i + 1, message: t("pools.error.maxCalls") });
        return null;
      }
      maxCalls = Number(max);
    }
    out.push({ number, max_calls: maxCalls, province, city });
  }
  return out;
}

function bindPools() {
  const dialog = document.getElementById("pool-dialog");
  const form = dialog.querySelector("form");
  clearOnInput(form);
  document.getElementById("pool-new").addEventListener("click", () => openPoolDialog(null));
  document.getElementById("pools-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const pool = pools.find((p) => p.name === button.dataset.pool);
    if (!pool) return;
    if (button.dataset.action === "edit") openPoolDialog(pool);
    else if (button.dataset.action === "delete") {
      confirmDelete(t("pools.delete.title"), t("pools.delete.body", { name: pool.name }), async () => {
        await api.del(`/caller-pools/${encodeURIComponent(pool.name)}`);
        toast(t("pools.deleted", { name: pool.name }));
        poolList.load();
      });
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const name = form.elements.name.value.trim();
    if (!editingPool && !NAME_RE.test(name)) return fieldError(form, "name", "rt.error.name");
    const numbers = readPool(form);
    if (!numbers) return;
    if (numbers.length === 0) return fieldError(form, "numbers", "pools.error.empty");
    const submit = document.getElementById("pool-submit");
    setBusy(submit, true);
    try {
      if (editingPool) await api.put(`/caller-pools/${encodeURIComponent(editingPool.name)}`, { numbers });
      else await api.post("/caller-pools", { name, numbers });
      dialog.close();
      toast(t(editingPool ? "pools.updated" : "pools.created", { name: editingPool ? editingPool.name : name }));
      poolList.load();
    } catch (err) {
      if (err instanceof ApiError && err.code === "exists") fieldError(form, "name", "rt.error.exists");
      else showError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
}

function openPoolDialog(pool) {
  editingPool = pool;
  const dialog = document.getElementById("pool-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  document.getElementById("pool-dialog-title").textContent = pool ? t("pools.edit.title", { name: pool.name }) : t("pools.create.title");
  form.elements.name.value = pool ? pool.name : "";
  form.elements.name.disabled = !!pool;
  form.elements.numbers.value = pool ? poolText(pool.numbers) : "";
  openDialog(dialog);
}

function renderPools() {
  const body = document.getElementById("pools-body");
  if (pools.length === 0) return body.replaceChildren(emptyRow(3, "pools.empty"));
  body.replaceChildren(
    ...pools.map((p) => {
      const numbers = p.numbers || [];
      const shown = numbers.slice(0, 3).map((n) => n.number).join(", ");
      return el(
        "tr",
        { dataset: { pool: p.name } },
        el("td", {}, el("span", { className: "mono" }, p.name)),
        el(
          "td",
          {},
          t("pools.numbersCount", { count: numbers.length }),
          " ",
          el("span", { className: "mono muted" }, numbers.length > 3 ? `${shown}, …` : shown),
        ),
        el(
          "td",
          { className: "actions" },
          actionButton("edit", "common.edit", { pool: p.name }),
          actionButton("delete", "common.delete", { pool: p.name }, "danger"),
        ),
      );
    }),
  );
}

// ---------- Call guards ----------

let blacklist = [];
let policy = null;
// policyDirty: the admin has typed in the policy form since it was filled;
// another admin's change (an event) then does not overwrite it.
let policyDirty = false;
let regions = null;

const blacklistList = loader(
  () => api.get("/blacklist"),
  (data) => {
    blacklist = ((data && data.blacklist) || []).slice().sort((a, b) => a.number.localeCompare(b.number) || a.direction.localeCompare(b.direction));
    renderBlacklist();
  },
);
const policyLoader = loader(
  () => api.get("/outbound-policy"),
  (data) => {
    policy = data || {};
    if (!policyDirty) showPolicy();
  },
);
const regionInfo = loader(
  () => api.get("/regions"),
  (data) => {
    regions = data || { count: 0 };
    renderRegions();
  },
);

export function setupGuards(events) {
  bindBlacklist();
  bindPolicy();
  bindRegions();
  events.on("snapshot", () => {
    for (const l of [blacklistList, policyLoader, regionInfo]) l.schedule();
  });
  events.on("blacklist.*", () => blacklistList.schedule());
  events.on("outbound_policy.*", () => policyLoader.schedule());
  events.on("regions.*", () => regionInfo.schedule());
  onLanguageChange(() => {
    renderBlacklist();
    renderDays();
    if (policy) showPolicyUpdated();
    renderRegions();
  });
  renderDays();
  for (const l of [blacklistList, policyLoader, regionInfo]) l.load();
}

// ----- Blacklist -----

function bindBlacklist() {
  const form = document.getElementById("blacklist-form");
  clearOnInput(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const e = form.elements;
    const number = e.number.value.trim();
    const description = e.description.value.trim();
    // The server's rules (docs/api.md), checked first so the message is in
    // the page's language.
    if (!number) return fieldError(form, "number", "error.required");
    if (number.length > MAX_BLACKLIST_NUMBER || !/^[0-9+*#]+$/.test(number)) return fieldError(form, "number", "bl.error.number", { max: MAX_BLACKLIST_NUMBER });
    if (Array.from(description).length > MAX_BLACKLIST_DESCRIPTION) return fieldError(form, "description", "bl.error.description", { max: MAX_BLACKLIST_DESCRIPTION });
    const submit = document.getElementById("bl-add");
    setBusy(submit, true);
    try {
      await api.post("/blacklist", { number, direction: e.direction.value, description });
      toast(t("bl.added", { number }));
      e.number.value = "";
      e.description.value = "";
      blacklistList.load();
    } catch (err) {
      if (err instanceof ApiError && err.code === "exists") fieldError(form, "number", "bl.error.exists");
      else showError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
  document.getElementById("blacklist-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action=delete]");
    if (!button) return;
    const entry = blacklist.find((b) => `${b.direction}:${b.number}` === button.dataset.entry);
    if (!entry) return;
    confirmDelete(t("bl.delete.title"), t("bl.delete.body", { number: entry.number, direction: t(`bl.dir.${entry.direction}`) }), async () => {
      await api.del(`/blacklist/${encodeURIComponent(entry.direction)}/${encodeURIComponent(entry.number)}`);
      toast(t("bl.deleted", { number: entry.number }));
      blacklistList.load();
    });
  });
}

function renderBlacklist() {
  const body = document.getElementById("blacklist-body");
  document.getElementById("blacklist-count").textContent = t("bl.count", { count: blacklist.length });
  if (blacklist.length === 0) return body.replaceChildren(emptyRow(5, "bl.empty"));
  body.replaceChildren(
    ...blacklist.map((b) => {
      const key = `${b.direction}:${b.number}`;
      return el(
        "tr",
        { dataset: { entry: key } },
        el("td", {}, el("span", { className: "mono" }, b.number)),
        el("td", { className: "nowrap" }, t(`bl.dir.${b.direction}`)),
        el("td", {}, b.description || ""),
        el("td", { className: "nowrap" }, formatDateTime(b.created)),
        el("td", { className: "actions" }, actionButton("delete", "common.delete", { entry: key }, "danger")),
      );
    }),
  );
}

// ----- Outbound policy -----

function renderDays() {
  const box = document.getElementById("policy-days");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((c) => c.value));
  if (!box.children.length && policy && policy.business_hours) for (const d of policy.business_hours.days || []) checked.add(d);
  box.replaceChildren(
    ...DAYS.map((d) =>
      el(
        "label",
        { className: "check" },
        el("input", { type: "checkbox", name: "business_hours.days", value: d, id: `policy-day-${d}`, checked: checked.has(d) }),
        el("span", {}, t(`day.${d}`)),
      ),
    ),
  );
}

function showPolicy() {
  const form = document.getElementById("policy-form");
  const p = policy || {};
  const e = form.elements;
  e.international.checked = !!p.international;
  e.premium.checked = !!p.premium;
  e.extension_calls_per_minute.value = p.extension_calls_per_minute > 0 ? String(p.extension_calls_per_minute) : "";
  e.allow_prefixes.value = (p.allow_prefixes || []).join(", ");
  e.deny_prefixes.value = (p.deny_prefixes || []).join(", ");
  e.emergency.value = (p.emergency || []).filter((n) => !DEFAULT_EMERGENCY.includes(n)).join(", ");
  e.lock_outside_hours.checked = !!p.lock_outside_hours;
  const h = p.business_hours || {};
  const days = new Set(h.days || []);
  for (const c of form.querySelectorAll('input[name="business_hours.days"]')) c.checked = days.has(c.value);
  e["business_hours.from"].value = h.from || "";
  e["business_hours.to"].value = h.to || "";
  e["business_hours.timezone"].value = h.timezone || "";
  showPolicyUpdated();
  policyDirty = false;
}

function showPolicyUpdated() {
  document.getElementById("policy-updated").textContent =
    policy && policy.updated ? t("policy.updatedAt", { time: formatDateTime(policy.updated) }) : t("policy.defaults");
}

const CLOCK_RE = /^([01][0-9]|2[0-4]):[0-5][0-9]$/;

function bindPolicy() {
  const form = document.getElementById("policy-form");
  clearOnInput(form);
  form.addEventListener("input", () => {
    policyDirty = true;
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const e = form.elements;
    const cpm = readCount(e.extension_calls_per_minute);
    if (Number.isNaN(cpm)) return fieldError(form, "extension_calls_per_minute", "rt.error.wholeNumber");
    const from = e["business_hours.from"].value.trim();
    const to = e["business_hours.to"].value.trim();
    if (!CLOCK_RE.test(from)) return fieldError(form, "business_hours.from", "policy.error.clock");
    if (!CLOCK_RE.test(to)) return fieldError(form, "business_hours.to", "policy.error.clock");
    const extra = splitList(e.emergency.value).filter((n) => !DEFAULT_EMERGENCY.includes(n));
    const p = policy || {};
    // PUT replaces the whole policy: what the form does not show is sent
    // back as it was.
    const body = {
      emergency: [...DEFAULT_EMERGENCY, ...new Set(extra)],
      allow_prefixes: splitList(e.allow_prefixes.value),
      deny_prefixes: splitList(e.deny_prefixes.value),
      international: e.international.checked,
      premium: e.premium.checked,
      premium_prefixes: p.premium_prefixes || [],
      extension_calls_per_minute: cpm,
      extension_max_outbound: p.extension_max_outbound || 0,
      lock_outside_hours: e.lock_outside_hours.checked,
      business_hours: {
        days: [...form.querySelectorAll('input[name="business_hours.days"]:checked')].map((c) => c.value),
        from,
        to,
        timezone: e["business_hours.timezone"].value.trim(),
      },
    };
    const submit = document.getElementById("policy-save");
    setBusy(submit, true);
    try {
      policy = await api.put("/outbound-policy", body);
      showPolicy();
      toast(t("policy.saved"));
    } catch (err) {
      showError(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
}

// ----- Region table -----

function renderRegions() {
  const info = document.getElementById("regions-info");
  if (!regions) {
    info.textContent = t("common.loading");
    return;
  }
  info.textContent = regions.count
    ? t("regions.info", { count: regions.count, time: formatDateTime(regions.updated) })
    : t("regions.none");
}

// uploadRegions POSTs the file as text/csv. It does not go through
// api.request, which sends JSON and keeps only the error's field: a
// refused file's answer lists every bad line.
async function uploadRegions(text) {
  const me = await api.get("/me");
  const res = await fetch(`${API_BASE}/regions`, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      Accept: "application/json",
      "Accept-Language": getLanguage(),
      "X-CSRF-Token": (me && me.csrf_token) || "",
    },
    body: text,
  });
  const data = await res.json().catch(() => null);
  if (res.ok) return { info: data };
  const e = (data && data.error) || {};
  return { error: new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText, e.field), lines: e.lines || [] };
}

function bindRegions() {
  const form = document.getElementById("region-import-form");
  const list = document.getElementById("region-lines");
  clearOnInput(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    list.hidden = true;
    list.replaceChildren();
    const file = form.elements.file.files[0];
    if (!file) return fieldError(form, "file", "regions.error.noFile");
    const submit = document.getElementById("region-import");
    setBusy(submit, true, "regions.importing");
    try {
      const result = await uploadRegions(await file.text());
      if (result.info) {
        regions = result.info;
        renderRegions();
        form.reset();
        toast(t("regions.imported", { count: regions.count }));
      } else if (result.lines.length > 0) {
        showFormError(form, t("regions.error.badLines", { count: result.lines.length }));
        list.replaceChildren(...result.lines.map((l) => el("li", { dataset: { line: String(l.line) } }, t("regions.line", { line: l.line, message: l.message }))));
        list.hidden = false;
      } else {
        showError(form, result.error);
      }
    } catch (err) {
      showError(form, err instanceof ApiError ? err : new ApiError(0, "network", "network error"));
    } finally {
      setBusy(submit, false);
    }
  });

  const lookup = document.getElementById("region-lookup-form");
  const result = document.getElementById("region-result");
  clearOnInput(lookup);
  lookup.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(lookup);
    result.textContent = "";
    const number = lookup.elements.number.value.trim();
    if (!number) return fieldError(lookup, "number", "error.required");
    try {
      const r = await api.get(`/regions/lookup?number=${encodeURIComponent(number)}`);
      result.dataset.found = String(!!r.found);
      result.textContent = r.found
        ? t("regions.found", { province: r.province, city: r.city || "", key: r.key })
        : t("regions.notFound", { key: r.key });
    } catch (err) {
      showError(lookup, err);
    }
  });
}
