// Live events from /api/v1/ws (protocol: docs/events.md).
//
// The server opens with {"type":"snapshot","seq":N,"data":{...}} and then
// sends the events this user may see, {"seq","time","type","subject","data",
// "prev"}, where prev is the seq of the message sent before it on this
// connection. When prev is not the last seq received, events were lost: the
// stream asks for {"type":"snapshot"} and drops events until the new
// snapshot arrives, because the snapshot already contains their effect. When
// the socket closes the stream reconnects with exponential backoff and
// jitter, and the first message of the new connection is again a snapshot.
//
// Messages without a seq are replies to requests this page sent (the seat.*
// messages of the softphone): they bypass the gap rule and go to the
// handlers of their exact type and of its prefix patterns, never to "*".

export const STATUS_CONNECTING = "connecting";
export const STATUS_OPEN = "open";
export const STATUS_CLOSED = "closed";

// CLOSE_SESSION_ENDED is the close code the server uses when the session
// behind the socket ended (logout, password reset, account disabled):
// reconnecting cannot help, the user has to sign in again.
export const CLOSE_SESSION_ENDED = 4001;

export class EventStream {
  // Options:
  //   url             WebSocket URL (default: /api/v1/ws on this host)
  //   minBackoffMs    first reconnect delay (default 500)
  //   maxBackoffMs    longest reconnect delay (default 30000)
  //   beforeReconnect async hook run before each reconnect; pages use it to
  //                   check the session (a rejected promise only delays)
  //   onSessionEnd    called instead of reconnecting when the server closes
  //                   with CLOSE_SESSION_ENDED
  //   WebSocket       constructor to use (default: the browser's)
  constructor(opts = {}) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = opts.url || `${scheme}//${location.host}/api/v1/ws`;
    this.minBackoffMs = opts.minBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30000;
    this.beforeReconnect = opts.beforeReconnect || null;
    this.onSessionEnd = opts.onSessionEnd || null;
    this.WebSocket = opts.WebSocket || globalThis.WebSocket;

    this.seq = -1;
    this.status = STATUS_CLOSED;
    this.handlers = new Map();
    this.statusHandlers = new Set();
    this.ws = null;
    this.timer = 0;
    this.attempt = 0;
    this.running = false;
    this.awaitingSnapshot = true;
    this.openHandlers = new Set();
    // lastMessageAt is when the current socket last delivered anything
    // (performance.now() ms): a page with its own heartbeat uses it to
    // tell a silent, dead connection from a quiet one.
    this.lastMessageAt = 0;
  }

  // onOpen calls fn() each time a socket opens, before its snapshot
  // arrives: the place to re-send what the server keeps per connection.
  // It returns a function that unsubscribes.
  onOpen(fn) {
    this.openHandlers.add(fn);
    return () => this.openHandlers.delete(fn);
  }

  // isOpen reports whether a socket is open now (a message sent would go).
  get isOpen() {
    return !!this.ws && this.ws.readyState === 1;
  }

  // drop abandons the current socket as a network failure would and
  // reconnects: for a connection the page has found dead (a missed
  // heartbeat), where waiting for the browser's own close can take minutes.
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onmessage = ws.onclose = ws.onopen = null;
    try {
      ws.close(4000, "heartbeat lost");
    } catch {
      // Closing a socket that never opened may throw; it is dropped anyway.
    }
    if (!this.running) return;
    this.setStatus(STATUS_CONNECTING);
    this.scheduleReconnect();
  }

  // on subscribes fn to events of one type. type is an exact event type
  // ("user.created"), a prefix pattern ("user.*"), "*" for every event, or
  // "snapshot" for snapshots. It returns a function that unsubscribes.
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type)?.delete(fn);
  }

  // onStatus calls fn(status) now and on every connection change.
  onStatus(fn) {
    this.statusHandlers.add(fn);
    fn(this.status);
    return () => this.statusHandlers.delete(fn);
  }

  start() {
    if (this.running) return this;
    this.running = true;
    this.connect();
    return this;
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    this.setStatus(STATUS_CLOSED);
  }

  // requestSnapshot asks the server to resend the full state.
  requestSnapshot() {
    this.awaitingSnapshot = true;
    this.send({ type: "snapshot" });
  }

  send(msg) {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  connect() {
    this.setStatus(STATUS_CONNECTING);
    this.awaitingSnapshot = true;
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastMessageAt = performance.now();
      for (const fn of this.openHandlers) {
        try {
          fn();
        } catch (err) {
          console.error("open handler failed", err);
        }
      }
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastMessageAt = performance.now();
      this.handleMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (ev && ev.code === CLOSE_SESSION_ENDED && this.onSessionEnd) {
        this.stop();
        this.onSessionEnd();
        return;
      }
      this.setStatus(this.running ? STATUS_CONNECTING : STATUS_CLOSED);
      this.scheduleReconnect();
    };
    // An error is always followed by close, which does the work.
    ws.onerror = () => {};
  }

  scheduleReconnect() {
    if (!this.running) return;
    if (this.attempt > 0) this.setStatus(STATUS_CLOSED);
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (!this.running) return;
      if (this.beforeReconnect) {
        try {
          await this.beforeReconnect();
        } catch {
          this.scheduleReconnect();
          return;
        }
      }
      if (this.running) this.connect();
    }, delay);
  }

  handleMessage(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object") return;

    if (msg.type === "snapshot") {
      this.seq = Number(msg.seq);
      this.awaitingSnapshot = false;
      this.attempt = 0;
      this.setStatus(STATUS_OPEN);
      this.dispatch("snapshot", msg);
      return;
    }
    if (typeof msg.seq !== "number") {
      // Not an event: a reply to this page (seat.*), outside the seq order.
      if (typeof msg.type === "string" && msg.type) this.dispatch(msg.type, msg, { direct: true });
      return;
    }
    if (this.awaitingSnapshot) return;
    if (msg.seq <= this.seq) return; // already seen
    // prev is the seq of the message the server sent before this one on this
    // connection; anything else means this client missed events (docs/events.md).
    if (msg.prev !== this.seq) {
      this.requestSnapshot();
      return;
    }
    this.seq = msg.seq;
    this.dispatch(msg.type, msg);
  }

  dispatch(type, msg, { direct = false } = {}) {
    const targets = [];
    const add = (key) => {
      const set = this.handlers.get(key);
      if (set) targets.push(...set);
    };
    add(type);
    if (type !== "snapshot") {
      const parts = String(type).split(".");
      for (let i = parts.length - 1; i > 0; i--) add(parts.slice(0, i).join(".") + ".*");
      if (!direct) add("*");
    }
    for (const fn of targets) {
      try {
        fn(msg);
      } catch (err) {
        // One broken subscriber must not stop the others.
        console.error("event handler failed", type, err);
      }
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    for (const fn of this.statusHandlers) fn(status);
  }
}
