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
//	Channel.Signals()         what the far end does mid-call: SignalHold,
//	                          SignalRetrieve, SignalDTMF (a digit, however it
//	                          arrived), SignalTransfer (a Transfer request)
//	Channel.SendDTMF(d, dur)  play a digit in the leg's own DTMFMode
//	                          (RFC 4733, SIP INFO or in-band)
//	Outgoing.Events()         ringing, early media, answered, for a leg being dialed
//	Dialer.Dial(...)          ring a device (all its contacts at once)
//	Bridger (injected)        join two legs' media; the fast path forwards packets
//	                          with SSRC/sequence/timestamp rewritten, no decoding
//	Player (injected)         play a Sound to a leg (SoundHold, SoundRingback,
//	                          SoundBeep, SoundError) as a Playback
//	Features (injected)       the feature-code table and the settings codes change
//	Manager.Incoming(...)     take a new call from an extension
//	Manager.IncomingFromTrunk take a carrier's call to one of the box's numbers
//	Manager.Replace(...)      take an INVITE with Replaces: the new leg takes
//	                          the place of a ringing leg (a pickup) or, unless
//	                          earlyOnly, of a party of an answered call
//
// A Directory resolves a number to a Target: the device, its call limit,
// DND, Forwarding (always, busy, no answer after a ring time) and pickup
// group; for an outside number, a DevicePSTN target with the trunks to try
// in order and the caller number to present. Every lookup carries the
// Origin the call is charged to: the calling extension; for a forward, the
// forwarding extension; for a transfer, the transferor; for a carrier's
// call (Manager.IncomingFromTrunk), its trunk, which reaches the box's own
// numbers only. A number the origin may not reach is a *BlockedError: the
// call ends with CauseBlocked (SIP 403 "Number Blocked").
//
// A Call has one owner goroutine (callRun.run): the caller's leg, the legs
// it dials, the bridge, the sounds and the CDR are touched only there.
// Other goroutines reach a call through its ctl channel (callRun.do: a
// pickup, an attended transfer or a Replaces from another call runs on the
// owning call's goroutine); Manager.owners says which call owns each leg.
// A call's end is recorded as a Cause; the CDR is durable (synced) before
// "call.ended" is published.
//
// What a call does:
//
//   - Connect: numbers starting with * or # are first matched against the
//     feature codes (the longest code wins; settings codes answer, beep or
//     sound the error tone and hang up, with no CDR; pickup codes hand the
//     leg to the longest-ringing call of the dialed extension or of the
//     caller's pickup group, else 480). Otherwise the number is routed:
//     forward always; DND (busy, or the busy forward); the call limit
//     (busy, or the busy forward); ringing, for the no-answer ring time
//     when a no-answer forward is set; then the busy or no-answer forward.
//     A chain reaches at most MaxForwardHops (5) numbers, the dialed one
//     included; at the last, or before a number it already passed, it
//     stops and that number rings without following its forwards.
//   - Talk: hold parts the bridge; the held party hears music, the holder
//     nothing; retrieve bridges again. Each leg's output is one continuous
//     RTP stream whatever it hears. Digits: between two RFC 4733 legs the
//     relay carries the events itself, between two in-band legs the audio
//     does; otherwise the call sends each digit
//     in the other leg's mode. Every digit is published as "call.dtmf".
//   - Blind transfer: the transferee hears ring-back while the target
//     rings; on answer they are joined and the transferor's leg is hung up
//     2 s later if its phone has not hung up. On failure the transferor is
//     told (Transfer.Progress) and the call goes on; a transferor that
//     hung up, or hangs up within 10 s after the failure, is rung back
//     (role "recall"), so the transferee is not left alone.
//   - Attended transfer: the consultation call hands its party over and
//     ends with CauseTransferred; the call the request came in keeps its
//     serial. Only an answered consultation call can be handed over.
//
// CDR leg roles: caller, callee, transfer_target, recall, pickup, replaces.
//
// A Device is anything that can be rung and has a state: kind "sip" (an
// extension's registered contacts), later "seat" (a browser seat) and "pstn"
// (a number reached through a route).
//
// The behaviour in user terms, and the tests that prove it, are in
// docs/calls.md.
//
// call imports media/rtp, config/store and pbx/event; pbx/sip implements
// its interfaces; it must not import pbx/sip, webui or appliance.
package call
