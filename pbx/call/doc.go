// Package call is the call model every telephony feature works through,
// after Asterisk's channels and bridges.
//
// A Channel is one leg of a call: a SIP dialog with a desk phone or a trunk,
// later a browser seat. Applications never touch SIP or WebRTC; they drive
// channels through this API:
//
//	Channel.Progress(early)   tell the caller it rings (180) or send early media (183)
//	Channel.Answer(ctx)       accept an incoming leg (200 OK)
//	Channel.Hangup(cause)     end a leg; the cause is recorded
//	Channel.Done(), Cause()   learn that a leg ended and why
//	Outgoing.Events()         ringing, early media, answered, for a leg being dialed
//	Dialer.Dial(...)          ring a device (all its contacts at once)
//	Bridge (injected)         join two legs' media; the fast path forwards packets
//	                          with SSRC/sequence/timestamp rewritten, no decoding
//
// Hold, DTMF, play and record join the interface as the features that need
// them land (desk-phone features, IVR, recording).
//
// A Call has one owner goroutine (Manager.run): the caller's leg, the legs
// it dials, the bridge and the CDR are touched only there, and everything
// else reaches the call through channels' events. Its end is recorded as a
// Cause; the CDR is durable (synced) before "call.ended" is published.
//
// A Device is anything that can be rung and has a state: kind "sip" (an
// extension's registered contacts), later "seat" (a browser seat) and "pstn"
// (a number reached through a route).
//
// call imports media and config; pbx/sip implements its interfaces; it must
// not import pbx/sip, webui or appliance.
package call
