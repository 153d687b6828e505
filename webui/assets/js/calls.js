// Call records for the admin console: which calls a period preset asks the
// API for, and how long a call lasted. Kept apart from the page so the
// date arithmetic can be checked without a browser.

// rangeBounds turns a preset into [from, to) in local time. to is null for
// "until now": the server then counts up to the moment it answers, so a
// call that ended just before a reload is included.
export function rangeBounds(name, now = new Date()) {
  // Days are counted on the calendar, not in 24-hour steps, so a daylight
  // saving change does not shift midnight.
  const day = (offset) => new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset);
  switch (name) {
    case "yesterday":
      return { from: day(-1), to: day(0) };
    case "week":
      return { from: day(-6), to: null };
    default:
      return { from: day(0), to: null };
  }
}

// rfc3339 is a time as the API reads it: UTC, without milliseconds.
export function rfc3339(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// cdrQuery is the query string of GET /api/v1/cdrs for a preset.
export function cdrQuery(name, limit, now = new Date()) {
  const { from, to } = rangeBounds(name, now);
  const q = new URLSearchParams({ from: rfc3339(from), limit: String(limit) });
  if (to) q.set("to", rfc3339(to));
  return q.toString();
}

// talkTime is how long a call was connected, in seconds, or null for a
// call that was never answered.
export function talkTime(cdr) {
  const answer = Date.parse(cdr.answer);
  const end = Date.parse(cdr.end);
  if (!Number.isFinite(answer) || !Number.isFinite(end)) return null;
  return Math.max(0, (end - answer) / 1000);
}

// formatDuration renders seconds as m:ss, or h:mm:ss from an hour up.
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const p = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${p(m)}:${p(s % 60)}` : `${m}:${p(s % 60)}`;
}
