// The softphone page (/softphone): the browser as one of the user's
// extensions. Going online opens the microphone and one PeerConnection that
// stays up; calls are then bridged onto it by the box, so answering costs no
// ICE or DTLS round trip. Signalling is the seat.* messages on the event
// WebSocket (docs/events.md); the media side is in seatmedia.js.

import { t, onLanguageChange } from "./i18n.js";
import { initShell } from "./shell.js";
import { ICONS } from "./icons.js";
import { ApiError } from "./api.js";
import { errorText, toast } from "./ui.js";
import { SeatMedia, MicError, RING_TONE, RINGBACK_TONE } from "./seatmedia.js";

// Liveness (WB-9): a ping every PING_EVERY_MS while online; a socket that
// has delivered nothing for SILENCE_LIMIT_MS is dead (the server sends a
// seat.state every 2 s and answers every ping), so it is dropped and the
// event stream reconnects and resumes the seat.
const PING_EVERY_MS = 2000;
const SILENCE_LIMIT_MS = 6000;
// ANSWER_TIMEOUT_MS bounds the wait for the box's seat.answer.
const ANSWER_TIMEOUT_MS = 15000;
// MIC_GRACE_MS keeps the microphone on the sender after a dial or answer
// click until the seat.state that shows the call arrives.
const MIC_GRACE_MS = 5000;
// ENDED_SHOW_MS is how long an ended call stays in the call panel.
const ENDED_SHOW_MS = 4000;

const REDIAL_KEY = "ccbox.softphone.lastDialed";
const NUMBER_RE = /^\+?[0-9*#]{1,32}$/;
const LIVE_CALL_STATES = new Set(["dialing", "ringing", "early", "talking", "held"]);
const ERROR_CODES = new Set([
  "bad_request",
  "no_extension",
  "seat_in_use",
  "not_online",
  "no_call",
  "busy",
  "bad_number",
  "seat_gone",
  "media",
]);

const $ = (id) => document.getElementById(id);
const media = new SeatMedia();

// S is the page's whole state; render() draws it.
const S = {
  phase: "offline", // offline | starting (mic, offer, waiting for the answer) | online
  seat: null, // the last seat.state's seat
  call: null,
  quality: null,
  token: "",
  onlineSent: false,
  offerSDP: "",
  candidates: [], // trickled before seat.online went out
  resumePending: false,
  restarting: false,
  muted: false,
  micUntil: 0, // performance.now() until which the mic stays on (MIC_GRACE_MS)
  endedAt: 0, // performance.now() when the call ended (how long to show it)
  endedAtWall: 0, // Date.now() then (where the timer stops)
  micError: null, // the MicError shown, or null
  answering: "", // id of the call the user answered, still ringing until the box says so
};

let events = null;
let branding = {};
let nextId = 1;
const pending = new Map(); // request id → request type
let answerTimer = 0;
let pingTimer = 0;
let titleTimer = 0;
let savedTitle = "";
let notification = null;
let lastDialedMemo = ""; // redial without localStorage

try {
  const shell = await initShell({ pageTitleKey: "sp.pageTitle" });
  events = shell.events;
  branding = shell.branding || {};
  bindControls();
  bindKeyboard();
  // A closed tab or a navigation away says goodbye, so the box takes the
  // seat offline at once rather than after its liveness timers.
  window.addEventListener("pagehide", () => {
    if (S.phase === "offline") return;
    send("seat.offline");
    media.closePeer();
  });
  events.on("seat.*", onSeatMessage);
  events.onOpen(onSocketOpen);
  events.onStatus(() => render());
  onLanguageChange(() => {
    renderMicError();
    render();
  });
  $("call-icon").innerHTML = ICONS.softphone;
  window.softphone = {
    dropSocket: () => events.drop(),
    remoteTone: (freqHz) => media.remoteLevel(Number(freqHz)),
    ringing: () => media.toneKind() === "ring",
    state: () => ({ phase: S.phase, seat: S.seat, call: S.call, muted: S.muted, sendingMic: media.sending }),
    // receive handles msg as if the box had sent it: UI tests drive the
    // call panel and the shortcuts with it.
    receive: (msg) => {
      events.lastMessageAt = performance.now();
      onSeatMessage(msg);
    },
  };
  render();
  // The call timer ticks, and an ended call leaves the panel, by the clock.
  setInterval(() => {
    if (S.call) render();
  }, 1000);
  document.body.dataset.ready = "true";
} catch (err) {
  // A signed-out visitor is already on the way to the login page.
  if (!(err instanceof ApiError && err.status === 401)) toast(errorText(err), "error");
}

// ---------- Going online and offline ----------

async function goOnline() {
  if (S.phase !== "offline") return;
  // Both before the first await: they need the click's user activation.
  media.unlockAudio();
  askNotificationPermission();
  S.micError = null;
  renderMicError();
  S.phase = "starting";
  render();
  try {
    await media.acquireMic();
  } catch (err) {
    S.phase = "offline";
    S.micError = err instanceof MicError ? err : new MicError("other", String(err && err.message));
    renderMicError();
    render();
    return;
  }
  await connectSeat();
}

// connectSeat makes a new PeerConnection and offers it in seat.online.
async function connectSeat() {
  Object.assign(S, { seat: null, call: null, quality: null, token: "", onlineSent: false, offerSDP: "", candidates: [] });
  S.resumePending = false;
  let sdp;
  try {
    sdp = await media.createOffer({
      onCandidate: sendCandidate,
      onState: onPeerState,
      onRemote: () => {},
    });
  } catch (err) {
    console.error("offer", err);
    teardown();
    toast(t("sp.error.media"), "error");
    return;
  }
  if (S.phase === "offline") return; // gone offline meanwhile
  S.offerSDP = sdp;
  sendOnline();
}

// sendOnline sends the offer now, or when the socket next opens.
function sendOnline() {
  if (S.onlineSent || !S.offerSDP || !events.isOpen) return;
  const fields = { sdp: S.offerSDP };
  const ext = $("online-extension").value.trim();
  if (ext) fields.extension = ext;
  if (!request("seat.online", fields)) return;
  S.onlineSent = true;
  for (const c of S.candidates.splice(0)) send("seat.candidate", { candidate: c });
  clearTimeout(answerTimer);
  answerTimer = setTimeout(() => {
    if (S.phase !== "starting") return;
    send("seat.offline");
    teardown();
    toast(t("sp.error.noAnswer"), "error");
  }, ANSWER_TIMEOUT_MS);
  startPings();
}

function sendCandidate(c) {
  const wire = c
    ? { candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined }
    : { candidate: "" };
  if (!S.onlineSent) S.candidates.push(wire);
  else send("seat.candidate", { candidate: wire });
}

function goOffline() {
  if (S.phase === "offline") return;
  send("seat.offline");
  teardown();
}

// restart goes online again from scratch with a new PeerConnection (the
// box forgot the seat, or ICE failed); the microphone stays open.
async function restart() {
  if (S.phase === "offline" || S.restarting) return;
  S.restarting = true;
  try {
    stopRinging();
    media.stopTone();
    media.closePeer();
    S.phase = "starting";
    render();
    await connectSeat();
  } finally {
    S.restarting = false;
  }
}

function teardown() {
  clearTimeout(answerTimer);
  stopPings();
  stopRinging();
  media.release();
  pending.clear();
  Object.assign(S, {
    phase: "offline",
    seat: null,
    call: null,
    quality: null,
    token: "",
    onlineSent: false,
    offerSDP: "",
    candidates: [],
    resumePending: false,
    muted: false,
    micUntil: 0,
  });
  render();
}

function onPeerState(state) {
  if (state === "failed" && S.phase === "online") restart();
}

function askNotificationPermission() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  try {
    // Not awaited: a refusal (or a prompt left open) must not stop the seat.
    const p = Notification.requestPermission();
    if (p && p.catch) p.catch(() => {});
  } catch {
    // Old callback-only API: no notifications then.
  }
}

// ---------- The socket ----------

function send(type, fields = {}) {
  return events.send({ type, ...fields });
}

// request sends a message with an id, so that its seat.result comes back
// to onResult; it returns the id, or 0 when the socket is closed.
function request(type, fields = {}) {
  const id = String(nextId++);
  if (!events.send({ type, id, ...fields })) return 0;
  pending.set(id, type);
  return id;
}

// act sends a user's action, saying so when the socket is down.
function act(type, fields) {
  if (request(type, fields)) return true;
  toast(t("sp.error.notConnected"), "error");
  return false;
}

function onSocketOpen() {
  if (S.phase === "online") {
    if (S.token) {
      S.resumePending = true;
      request("seat.resume", { token: S.token });
    } else {
      restart();
    }
  } else if (S.phase === "starting") {
    if (S.onlineSent) restart(); // the answer was lost with the old socket
    else sendOnline();
  }
  render();
}

function startPings() {
  stopPings();
  pingTimer = setInterval(() => {
    if (S.phase === "offline" || !events.isOpen) return;
    if (S.phase === "online" && performance.now() - events.lastMessageAt > SILENCE_LIMIT_MS) {
      events.drop();
      render();
      return;
    }
    send("seat.ping");
  }, PING_EVERY_MS);
}

function stopPings() {
  clearInterval(pingTimer);
  pingTimer = 0;
}

function onSeatMessage(msg) {
  switch (msg.type) {
    case "seat.answer":
      return onAnswer(msg);
    case "seat.state":
      return onState(msg);
    case "seat.result":
      return onResult(msg);
    case "seat.transfer":
      return onTransfer(msg);
  }
}

async function onAnswer(msg) {
  if (S.phase === "offline" || !msg.sdp) return;
  clearTimeout(answerTimer);
  try {
    await media.applyAnswer(msg.sdp);
  } catch (err) {
    console.error("answer", err);
    send("seat.offline");
    teardown();
    toast(t("sp.error.media"), "error");
    return;
  }
  S.phase = "online";
  render();
}

function onState(msg) {
  if (S.phase === "offline") return; // a late message for a seat already left
  const seat = msg.seat || null;
  S.resumePending = false;
  if (seat && seat.state === "offline") {
    // The box ended the seat (offline elsewhere, or it gave up waiting).
    const wasOnline = S.phase === "online";
    teardown();
    if (wasOnline) toast(t("sp.seatEnded"), "error");
    return;
  }
  S.seat = seat;
  if (seat && seat.token) S.token = seat.token;
  const prev = S.call;
  S.call = msg.call || null;
  S.quality = msg.quality || null;
  if (S.call && S.call.state === "ended" && !(prev && prev.state === "ended" && prev.id === S.call.id)) {
    S.endedAt = performance.now();
    S.endedAtWall = Date.now();
  }
  // The grace for a dial or answer click ends once the box has shown the
  // call, or shown it gone.
  if (liveCall() || (prev && !S.call)) S.micUntil = 0;
  if (S.phase === "starting" && seat && seat.state !== "connecting") {
    clearTimeout(answerTimer);
    S.phase = "online";
  }
  syncMedia();
  render();
}

function onResult(msg) {
  const type = pending.get(String(msg.id)) || "";
  pending.delete(String(msg.id));
  if (msg.ok) return;
  const code = (msg.error && msg.error.code) || "";
  if (code === "seat_gone" || (type === "seat.resume" && code === "not_online")) {
    restart();
    return;
  }
  if (type === "seat.online") {
    clearTimeout(answerTimer);
    teardown();
  } else if (type === "seat.dial" || type === "seat.answer_call") {
    S.micUntil = 0;
    S.answering = "";
    syncMedia();
    render();
  }
  toast(resultText(code, msg.error && msg.error.message), "error");
}

function resultText(code, message) {
  if (ERROR_CODES.has(code)) return t(`sp.error.${code}`);
  return message || t("error.unknown");
}

function onTransfer(msg) {
  const state = msg.state || "";
  if (!["trying", "ringing", "done", "failed"].includes(state)) return;
  const text = t(`sp.transfer.${state}`, { cause: msg.cause || "" });
  toast(text, state === "failed" ? "error" : "info");
}

// ---------- Calls ----------

function liveCall() {
  return S.call && LIVE_CALL_STATES.has(S.call.state) ? S.call : null;
}

function incomingRinging() {
  const c = liveCall();
  return !!c && c.direction === "in" && c.state === "ringing";
}

// syncMedia makes the microphone, tones and alerts follow the call.
function syncMedia() {
  const c = liveCall();
  const wantMic =
    (!!c && (c.direction === "out" || c.state === "talking" || c.state === "held")) || performance.now() < S.micUntil;
  media.sendMic(wantMic).catch((err) => console.error("replaceTrack", err));
  if (!c) {
    S.answering = "";
    S.muted = false;
    media.setMuted(false);
  }
  if (incomingRinging() && S.answering !== c.id) startRinging(c);
  else stopRinging();
  if (c && c.direction === "out" && c.state === "ringing") media.startTone("ringback", RINGBACK_TONE);
  else media.stopTone("ringback");
}

function dial(number) {
  number = String(number || "").trim();
  if (!number) return;
  if (!NUMBER_RE.test(number)) {
    toast(t("sp.error.bad_number"), "error");
    return;
  }
  if (!canDial()) return;
  if (!act("seat.dial", { number })) return;
  try {
    localStorage.setItem(REDIAL_KEY, number);
  } catch {
    // Redial then lasts for this page only.
  }
  lastDialedMemo = number;
  S.micUntil = performance.now() + MIC_GRACE_MS;
  syncMedia();
  render();
}

function lastDialed() {
  try {
    return localStorage.getItem(REDIAL_KEY) || lastDialedMemo;
  } catch {
    return lastDialedMemo;
  }
}

function canDial() {
  return S.phase === "online" && !!S.seat && !liveCall();
}

function answer() {
  if (!incomingRinging()) return;
  if (!act("seat.answer_call")) return;
  S.answering = S.call.id;
  stopRinging();
  S.micUntil = performance.now() + MIC_GRACE_MS;
  syncMedia();
}

function hangup() {
  if (!liveCall()) return;
  act("seat.hangup");
}

function toggleHold() {
  const c = liveCall();
  if (!c || (c.state !== "talking" && c.state !== "held")) return;
  act(c.state === "held" ? "seat.retrieve" : "seat.hold");
}

function toggleMute() {
  if (!liveCall()) return;
  S.muted = !S.muted;
  media.setMuted(S.muted);
  render();
}

function transfer() {
  const c = liveCall();
  const target = $("transfer-number").value.trim();
  if (!c || !target) return;
  if (!NUMBER_RE.test(target)) {
    toast(t("sp.error.bad_number"), "error");
    return;
  }
  if (act("seat.transfer", { target })) $("transfer-number").value = "";
  render();
}

// pressDigit is a dialpad key: a DTMF tone during a call, else typing.
function pressDigit(digit) {
  if (liveCall()) {
    if (!media.sendDigit(digit)) toast(t("sp.error.dtmf"), "error");
    flashKey(digit);
    return;
  }
  const input = $("dial-number");
  input.value += digit;
  flashKey(digit);
  render();
}

function flashKey(digit) {
  const key = document.querySelector(`button[data-digit="${CSS.escape(digit)}"]`);
  if (!key) return;
  key.classList.add("is-pressed");
  setTimeout(() => key.classList.remove("is-pressed"), 150);
}

// ---------- Ringing: tone, desktop notification, tab title ----------

function startRinging(call) {
  if (media.toneKind() !== "ring") media.startTone("ring", RING_TONE);
  if (!titleTimer) {
    savedTitle = document.title;
    let on = false;
    titleTimer = setInterval(() => {
      on = !on;
      document.title = on ? `☎ ${t("sp.notify.title")} · ${remoteText(call)}` : savedTitle;
    }, 1000);
  }
  if (!notification && "Notification" in window && Notification.permission === "granted") {
    try {
      notification = new Notification(t("sp.notify.title"), {
        body: remoteText(call),
        tag: "ccbox-seat-call",
        requireInteraction: true,
      });
      notification.onclick = () => {
        window.focus();
        notification && notification.close();
      };
    } catch {
      notification = null; // some browsers only notify from a service worker
    }
  }
}

function stopRinging() {
  media.stopTone("ring");
  if (titleTimer) {
    clearInterval(titleTimer);
    titleTimer = 0;
    document.title = savedTitle;
  }
  if (notification) {
    notification.close();
    notification = null;
  }
}

// ---------- Drawing ----------

function seatState() {
  if (S.phase === "offline") return "offline";
  if (S.phase === "starting" || !S.seat) return "connecting";
  return S.seat.state || "connecting";
}

function remoteText(call) {
  const r = (call && call.remote) || {};
  if (r.name && r.number && r.name !== r.number) return `${r.name} (${r.number})`;
  return r.number || r.name || t("sp.call.unknown");
}

function callStateText(c) {
  if (!c) return t("sp.call.none");
  if (c.state === "ended") {
    if (!c.cause) return t("sp.call.ended");
    // A refused call says why (blocked: international, blacklist…).
    return t("sp.call.endedCause", { cause: c.reason ? `${c.cause}: ${c.reason}` : c.cause });
  }
  if (c.state === "ringing") return t(c.direction === "in" ? "sp.call.incoming" : "sp.call.ringing");
  return t(`sp.call.${c.state}`);
}

function timerText(c) {
  if (!c || !c.answered) return "00:00";
  const end = c.state === "ended" ? S.endedAtWall || Date.now() : Date.now();
  const secs = Math.max(0, Math.floor((end - c.answered) / 1000));
  const p = (n) => String(n).padStart(2, "0");
  return secs >= 3600 ? `${Math.floor(secs / 3600)}:${p(Math.floor(secs / 60) % 60)}:${p(secs % 60)}` : `${p(Math.floor(secs / 60))}:${p(secs % 60)}`;
}

function qualityText(q) {
  if (!q) return "";
  // A tenth of a millisecond below 10 ms: a seat on the office LAN is
  // well under one.
  const ms = (v) => {
    const n = Number(v) || 0;
    return `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
  };
  const pct = (v) => `${((Number(v) || 0) * 100).toFixed(1)}%`;
  return t("sp.quality", {
    rtt: ms(q.rtt_ms),
    lossIn: pct(q.loss_in),
    lossOut: pct(q.loss_out),
    jitterIn: ms(q.jitter_in_ms),
    jitterOut: ms(q.jitter_out_ms),
  });
}

function render() {
  if (!events) return;
  const state = seatState();
  const online = S.phase !== "offline";
  const stateEl = $("seat-state");
  stateEl.dataset.state = state;
  stateEl.textContent = t(`sp.state.${state}`);

  const seat = S.seat;
  $("seat-extension").textContent =
    seat && seat.extension
      ? t("sp.seat.ext", { ext: seat.extension }) + (seat.name ? ` · ${seat.name}` : "")
      : t(online ? "sp.seat.connecting" : "sp.seat.notOnline");

  $("go-online").hidden = online;
  $("go-online").disabled = online;
  $("go-offline").hidden = !online;
  $("online-extension").disabled = online;
  const ringOn = $("ring-on");
  ringOn.disabled = !seat || S.phase !== "online";
  // Set from the box only when the box's value changes, so a choice just
  // made is not undone by a redraw before the box confirms it.
  const boxRingOn = seat ? seat.ring_on || "both" : "";
  if (boxRingOn && boxRingOn !== ringOn.dataset.box) ringOn.value = boxRingOn;
  ringOn.dataset.box = boxRingOn;

  const reconnecting = online && (!events.isOpen || (S.phase === "online" && S.resumePending));
  $("seat-banner").hidden = !reconnecting;

  // The call panel shows an ended call briefly, then the idle panel.
  let c = S.call;
  if (c && c.state === "ended" && performance.now() - S.endedAt > ENDED_SHOW_MS) c = null;
  const live = liveCall();
  const panel = $("call-panel");
  panel.dataset.state = c ? c.state : "none";
  panel.dataset.direction = c ? c.direction || "" : "";
  $("call-remote").textContent = c ? remoteText(c) : "";
  $("call-state").textContent = callStateText(c);
  $("call-timer").textContent = timerText(c);

  $("answer").disabled = !incomingRinging();
  $("hangup").disabled = !live;
  const holdable = !!live && (live.state === "talking" || live.state === "held");
  const held = !!live && live.state === "held";
  const hold = $("hold");
  hold.disabled = !holdable;
  hold.setAttribute("aria-pressed", String(held));
  hold.textContent = t(held ? "sp.retrieve" : "sp.hold");
  const mute = $("mute");
  mute.disabled = !live;
  mute.setAttribute("aria-pressed", String(S.muted));
  mute.textContent = t(S.muted ? "sp.unmute" : "sp.mute");
  $("transfer").disabled = !holdable || !$("transfer-number").value.trim();
  $("quality").textContent = live ? qualityText(S.quality) : "";

  $("dial").disabled = !canDial() || !$("dial-number").value.trim();
  const last = lastDialed();
  const redial = $("redial");
  redial.disabled = !canDial() || !last;
  redial.title = last ? t("sp.redialTo", { number: last }) : "";
  $("dialpad-hint").textContent = t(live ? "sp.dialer.hintCall" : "sp.dialer.hintIdle");
}

// renderMicError shows the microphone error page in place of the phone.
function renderMicError() {
  const err = S.micError;
  const box = $("mic-error");
  box.hidden = !err;
  $("phone").hidden = !!err;
  $("shortcuts-toggle").hidden = !!err;
  if (!err) {
    box.dataset.reason = "";
    return;
  }
  const reason = err.reason;
  box.dataset.reason = reason;
  $("mic-error-icon").innerHTML = ICONS.micOff;
  $("mic-error-title").textContent = t(`sp.mic.${reason}.title`);
  $("mic-error-body").textContent = t(`sp.mic.${reason}.body`);
  const steps = t(`sp.mic.${reason}.steps`)
    .split("|")
    .filter((s) => s.trim());
  $("mic-error-steps").replaceChildren(
    ...steps.map((s) => {
      const li = document.createElement("li");
      li.textContent = s;
      return li;
    }),
  );
  const detail = $("mic-error-detail");
  detail.hidden = !(reason === "other" && err.detail);
  detail.textContent = reason === "other" ? err.detail : "";

  const https = $("mic-error-https");
  https.hidden = reason !== "insecure";
  // Over HTTP the way on is the HTTPS link, not another try here.
  $("mic-retry").className = reason === "insecure" ? "btn" : "btn btn-primary";
  if (reason === "insecure") {
    const link = $("mic-error-link");
    const port = $("mic-error-port");
    if (branding.https_url) {
      link.href = branding.https_url.replace(/\/+$/, "") + location.pathname + location.search;
      port.hidden = true;
    } else {
      link.href = `https://${location.hostname}${location.pathname}`;
      port.hidden = false;
      port.textContent = t("sp.mic.insecure.port");
    }
    link.textContent = `${t("sp.mic.openHttps")}: ${link.href}`;
  }
}

// ---------- Controls and keyboard ----------

function bindControls() {
  $("go-online").addEventListener("click", goOnline);
  $("go-offline").addEventListener("click", goOffline);
  $("mic-retry").addEventListener("click", () => {
    S.micError = null;
    renderMicError();
    goOnline();
  });
  $("ring-on").addEventListener("change", (ev) => act("seat.ring_on", { ring_on: ev.target.value }));
  $("dial").addEventListener("click", () => dial($("dial-number").value));
  $("redial").addEventListener("click", () => {
    const last = lastDialed();
    if (!last) return;
    $("dial-number").value = last;
    dial(last);
  });
  $("answer").addEventListener("click", answer);
  $("hangup").addEventListener("click", hangup);
  $("hold").addEventListener("click", toggleHold);
  $("mute").addEventListener("click", toggleMute);
  $("transfer").addEventListener("click", transfer);
  $("dial-number").addEventListener("input", render);
  $("transfer-number").addEventListener("input", render);
  for (const key of document.querySelectorAll("button[data-digit]")) {
    key.addEventListener("click", () => pressDigit(key.dataset.digit));
    // A click on a key leaves the focus where it was (the number field),
    // so typing and Enter go on working there.
    key.addEventListener("mousedown", (ev) => ev.preventDefault());
  }
  const help = $("shortcuts-toggle");
  help.addEventListener("click", toggleHelp);
  help.setAttribute("aria-expanded", "true");
}

function toggleHelp() {
  const card = $("shortcuts");
  card.hidden = !card.hidden;
  $("shortcuts-toggle").setAttribute("aria-expanded", String(!card.hidden));
  if (!card.hidden) card.scrollIntoView({ block: "nearest" });
}

function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

// Shortcuts (also listed on the page): Enter dials or answers, Esc hangs
// up, Ctrl+H holds or retrieves, Ctrl+M mutes, 0-9 * # are the dialpad.
// While the user types in a field only Enter works, and there it acts on
// that field (dial, transfer).
function bindKeyboard() {
  document.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented || ev.isComposing || S.micError) return;
    if (document.querySelector("dialog[open]")) return;
    const target = ev.target;
    const typing = isTyping(target);
    if (ev.key === "Enter") {
      if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
      // A focused button or link acts itself; a dialpad key is no action
      // of its own for Enter.
      const isKey = target instanceof HTMLButtonElement && "digit" in target.dataset;
      if (!isKey && (target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement)) return;
      if (target && target.id === "transfer-number") {
        ev.preventDefault();
        transfer();
        return;
      }
      if (typing && target.id !== "dial-number") return;
      ev.preventDefault();
      if (incomingRinging()) answer();
      else dial($("dial-number").value);
      return;
    }
    if (typing) return;
    if (ev.key === "Escape") {
      if (liveCall()) {
        ev.preventDefault();
        hangup();
      }
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey) {
      const k = ev.key.toLowerCase();
      if (k === "h") {
        ev.preventDefault();
        toggleHold();
      } else if (k === "m") {
        ev.preventDefault();
        toggleMute();
      }
      return;
    }
    if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (/^[0-9*#]$/.test(ev.key)) {
      ev.preventDefault();
      pressDigit(ev.key);
    } else if (ev.key === "?") {
      ev.preventDefault();
      toggleHelp();
    } else if (ev.key === "Backspace" && !liveCall()) {
      const input = $("dial-number");
      input.value = input.value.slice(0, -1);
      render();
    }
  });
}
