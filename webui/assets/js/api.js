// JSON API client: the one place that knows how requests are sent.
//
// Every call goes through request(): JSON in and out, the session cookie,
// the X-CSRF-Token header on state-changing methods, and one error type
// (ApiError) whatever went wrong. A 401 from anything except /login and /me
// means the session ended, so the browser is sent to the login page with a
// `next` link back to where the user was.

import { getLanguage } from "./i18n.js";

export const API_BASE = "/api/v1";

// Paths whose 401 is an answer for the caller, not an expired session:
// /login reports bad credentials, /me is how pages ask "am I logged in?".
const NO_REDIRECT_ON_401 = new Set(["/login", "/me"]);

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

// ApiError is thrown by every failed request. status is the HTTP status
// (0 when the server could not be reached); code, message and field come
// from the server's {"error":{...}} body; retryAfter is seconds, when the
// server sent retry_after (a locked login).
export class ApiError extends Error {
  constructor(status, code, message, field = "", retryAfter = 0) {
    super(message || code || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code || "";
    this.field = field || "";
    this.retryAfter = retryAfter || 0;
  }

  // isNetwork reports whether the request never got an HTTP answer.
  get isNetwork() {
    return this.status === 0;
  }
}

let csrfToken = "";

// setCsrfToken stores the token returned by /login and /me; every later
// state-changing request sends it.
export function setCsrfToken(token) {
  csrfToken = token || "";
}

// request sends one API call. path is relative to API_BASE ("/users").
// It resolves to the decoded JSON body, or null for an empty body (204).
export async function request(method, path, body, { signal } = {}) {
  method = method.toUpperCase();
  // Accept-Language carries the UI language (not just the browser's) so
  // the server can word its error messages to match the page.
  const headers = { Accept: "application/json", "Accept-Language": getLanguage() };
  const init = { method, headers, credentials: "same-origin", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (!SAFE_METHODS.has(method) && path !== "/login" && csrfToken) {
    headers["X-CSRF-Token"] = csrfToken;
  }

  let res;
  try {
    res = await fetch(API_BASE + path, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "network error");
  }

  const data = await readJSON(res);
  if (res.ok) return data;

  const e = (data && data.error) || {};
  const apiErr = new ApiError(
    res.status,
    e.code || `http_${res.status}`,
    e.message || res.statusText,
    e.field,
    Number(e.retry_after) || 0,
  );
  const bare = path.split("?")[0];
  if (res.status === 401 && !NO_REDIRECT_ON_401.has(bare)) {
    redirectToLogin();
  }
  throw apiErr;
}

async function readJSON(res) {
  if (res.status === 204) return null;
  const text = await res.text().catch(() => "");
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const api = {
  get: (path, opts) => request("GET", path, undefined, opts),
  post: (path, body, opts) => request("POST", path, body ?? {}, opts),
  put: (path, body, opts) => request("PUT", path, body ?? {}, opts),
  patch: (path, body, opts) => request("PATCH", path, body ?? {}, opts),
  del: (path, opts) => request("DELETE", path, undefined, opts),
};

// loadMe fetches the current user and remembers its CSRF token. A 401 sends
// the browser to the login page (pages call it first, before drawing).
export async function loadMe() {
  try {
    const me = await api.get("/me");
    setCsrfToken(me && me.csrf_token);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) redirectToLogin();
    throw err;
  }
}

// redirectToLogin leaves for /login, asking it to come back here afterwards.
export function redirectToLogin() {
  const here = location.pathname + location.search + location.hash;
  const target = here && here !== "/" && !here.startsWith("/login") ? `?next=${encodeURIComponent(here)}` : "";
  location.assign(`/login${target}`);
}

// safeNext turns a `next` query value into a same-origin path, or the
// fallback: it never lets a crafted link send a user to another site.
export function safeNext(next, fallback = "/home") {
  if (!next || typeof next !== "string") return fallback;
  // "//host" and "/\host" are protocol-relative URLs to another origin.
  if (!next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  let url;
  try {
    url = new URL(next, location.origin);
  } catch {
    return fallback;
  }
  if (url.origin !== location.origin || url.pathname.startsWith("/login")) return fallback;
  return url.pathname + url.search + url.hash;
}
