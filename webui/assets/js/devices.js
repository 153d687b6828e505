// Device states of SIP extensions as the admin console shows them.
//
// Two sources describe a device and neither is complete: GET
// /api/v1/registrations lists each extension's registered contacts (source
// address, transport, user agent, expiry) but knows only reachability
// (idle or unavailable), while device.state_changed events (docs/events.md)
// carry the live state including ringing and in_use, and only counts of
// contacts. DeviceStates merges them: events set the state; the list fills
// in the contacts and is fetched again when an event's counts no longer
// match the contacts it has.

// STATES are the device states the console has words and colours for.
export const STATES = ["unavailable", "idle", "ringing", "in_use"];

// CALL_STATES are known only from events: the registrations list reports
// such a device as idle, which must not hide a call in progress.
const CALL_STATES = new Set(["ringing", "in_use"]);

export class DeviceStates {
  // fetchList is an async function returning the body of GET
  // /api/v1/registrations; it is injected so the merging can be tested
  // without a server.
  constructor(fetchList, { reloadDelayMs = 200 } = {}) {
    this.fetchList = fetchList;
    this.reloadDelayMs = reloadDelayMs;
    this.devices = new Map();
    this.listeners = new Set();
    this.loadSeq = 0;
    // Events that arrive while a list request is in flight are applied
    // again on top of its answer, which may predate them.
    this.pending = null;
    this.timer = 0;
    this.resetNext = false;
  }

  // get returns what is known of an extension: {state, count, available,
  // contacts}; contacts is null until the list has been read.
  get(number) {
    return this.devices.get(number) || { state: "unavailable", count: 0, available: 0, contacts: null };
  }

  // onChange calls fn(number) after one device changed and fn(null) after
  // a list was read; it returns a function that unsubscribes.
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(number) {
    for (const fn of this.listeners) fn(number);
  }

  // load reads the registrations list. reset drops call states learnt from
  // events, for when events may have been missed (a new WebSocket
  // snapshot): the list is then the best there is.
  async load({ reset = false } = {}) {
    const seq = ++this.loadSeq;
    this.pending = [];
    const data = await this.fetchList();
    if (seq !== this.loadSeq) return; // a newer load owns the result
    const pending = this.pending || [];
    this.pending = null;
    const next = new Map();
    for (const r of (data && data.registrations) || []) {
      if (!r || typeof r.extension !== "string") continue;
      const contacts = Array.isArray(r.contacts) ? r.contacts : [];
      const old = this.devices.get(r.extension);
      let state = typeof r.state === "string" ? r.state : "unavailable";
      if (!reset && old && CALL_STATES.has(old.state) && state === "idle") state = old.state;
      next.set(r.extension, {
        state,
        count: contacts.length,
        available: contacts.filter((c) => c && c.available).length,
        contacts,
      });
    }
    this.devices = next;
    for (const msg of pending) this.apply(msg, { replay: true });
    this.notify(null);
  }

  // scheduleLoad coalesces reasons to read the list into one request.
  scheduleLoad({ reset = false } = {}) {
    this.resetNext = this.resetNext || reset;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const r = this.resetNext;
      this.resetNext = false;
      this.load({ reset: r }).catch(() => {
        // The table keeps what it had; the next event or snapshot retries.
      });
    }, this.reloadDelayMs);
  }

  // onEvent takes a device.state_changed message.
  onEvent(msg) {
    if (this.pending) this.pending.push(msg);
    this.apply(msg, { replay: false });
  }

  apply(msg, { replay }) {
    const data = (msg && msg.data) || {};
    if (data.kind && data.kind !== "sip") return;
    const number = typeof data.id === "string" && data.id ? data.id : String((msg && msg.subject) || "").replace(/^device:sip:/, "");
    if (!number || typeof data.state !== "string") return;
    const old = this.get(number);
    const count = Number.isInteger(data.contacts) ? data.contacts : old.count;
    const available = Number.isInteger(data.available) ? data.available : old.available;
    const entry = { state: data.state, count, available, contacts: old.contacts };
    this.devices.set(number, entry);
    // The event counts contacts but does not describe them: a phone that
    // came or went makes the list out of date.
    if (!replay && (entry.contacts === null || entry.contacts.length !== count)) this.scheduleLoad();
    this.notify(number);
  }
}

// displayState is the word to show for a device: a registered phone that
// stopped answering is "not responding", not "unregistered".
export function displayState(dev) {
  if (dev.state === "unavailable" && dev.count > 0) return "not_responding";
  return STATES.includes(dev.state) ? dev.state : "unknown";
}
