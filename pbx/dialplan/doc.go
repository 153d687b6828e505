// Package dialplan turns numbers into decisions, with pure functions and no
// I/O: it reads numbers in every form they arrive in, matches dial patterns
// and picks outbound routes, says which SIP failures move a call to the next
// trunk, chooses the caller number by the callee's region, and holds the
// blacklist and the toll-fraud prefix rules and business hours.
//
// It imports only the standard library: not the store, not pbx/sip, not
// pbx/call. Those call it; appliance turns stored configuration into its
// types.
//
// # Numbers
//
// NumberPlan.Normalize is the one place a number is read; Number.Key is what
// every comparison uses (DIDs, blacklist, region lookup, screen pop,
// reports). The plan defaults to China's: country code 86, national prefix 0,
// international prefix 00. China's forms understood:
//
//	+8613800138000  008613800138000  8613800138000  a mobile, E.164 8613800138000
//	13800138000  013800138000 (a stray 0)           the same mobile, national 13800138000
//	010-1234 5678  (010)12345678  +86 10 12345678   Beijing landline, national 01012345678
//	020 8765 4321  0755-12345678  0991-1234567      Guangzhou, Shenzhen, Urumqi (7 or 8 digit subscriber)
//	110 119 120 122  10086  12345  95555  4008123456 service numbers: national form only, no E.164
//	0012125551234  +44 20 7946 0000                  international: E.164 12125551234
//
// A mobile is 1[3-9] and 9 more digits. A landline is 0, an area code (10;
// 2X; [3-9]XX) and a 7–8 digit subscriber number not starting with 0. A
// service number is 1XX, 1XXXX, 95/96 with 3–8 more digits, or 400/800 and 7
// digits. Other short numbers (2–6 digits, not starting with 0) are
// extensions. Spaces, dashes, dots, parentheses and full-width digits are
// accepted; letters are ErrBadNumber. Route prefixes (an outside-line 9) are
// not stripped by Normalize: routes do that.
//
// # Dial patterns
//
// Patterns are Asterisk's without the leading '_' (accepted and ignored):
//
//	0-9 + * #   themselves
//	X           any digit          Z  1-9          N  2-9
//	[135] [1-5] a set of digits (ranges allowed)
//	.           at the end: one or more characters more
//	!           at the end: zero or more characters more
//
// A pattern without a final '.' or '!' matches numbers of exactly its length:
// "1[3-9]XXXXXXXXX" is an 11-digit mobile, "9XXXXXXXX." an outside-line 9
// and at least eight more digits, "0XXXXXXXXX!" a 0 and at least nine more.
// ParsePattern reports a malformed pattern with the byte position.
//
// # Routes and failover
//
// SelectRoute takes the first route in order whose pattern matches and that
// the calling extension (or its owner's role) may use, strips and prepends,
// and returns the number to send. The route's trunks are tried in order;
// FailoverOn says which final responses move to the next trunk: no answer at
// all (timeout), 408, 5xx and 403 do; 486, 404, 480, 603 and every other 4xx
// and 6xx do not — the callee has answered, another carrier would only ring
// or bill twice.
//
// # Caller number by region
//
// A RegionTable (from a "prefix,province,city" CSV: mobile 7-digit prefixes
// like 1380013, area codes like 0755) gives the callee's region by longest
// prefix. PickCaller presents a number of the callee's city, else of its
// province, else any, at random among equals (seed 003 §6), skipping numbers
// at their concurrent-call limit.
//
// # Blacklist and guards
//
// Blacklist blocks numbers inbound, outbound or both, compared by Key so
// that every spelling of a number is caught. Policy holds the prefix rules:
// emergency numbers (110, 119, 120, 122 and any added) always pass; the
// longest matching allow or deny prefix decides; international and
// premium-rate numbers are refused unless switched on. BusinessHours is the
// window outside which outbound calling may be locked. Refusal names every
// reason a call is refused; its String is the metric label.
package dialplan
