// Package sip is the appliance's SIP front: transports (UDP and TCP on one
// address, TLS on another), digest authentication, source bans, the
// registrar (RFC 3261 §10), OPTIONS qualify, the SIP side of the B2BUA
// (Calls) and busy lamps (Presence). It is the only package that imports
// sipgo. It implements pbx/call's interfaces (calls.go: every leg is a
// call.Channel, Calls is the call.Dialer) and so imports pbx/call for their
// types; it imports nothing of webui or appliance, and declares the small
// store interfaces it needs (Directory, BindingStore, CallDirectory,
// DeviceStates).
//
// # Building and running
//
//	srv, err := sip.New(sip.Config{Realm: realm, TLS: tlsConf}, sip.Deps{
//		Log: log, Registerer: reg, Directory: dir, Store: bindings,
//		OnChange: func(ext sip.Extension, available int) { ... },
//	})
//	srv.Handle(sipgo.INVITE, callLayer.OnInvite) // before Run
//	err = srv.Run(ctx, sip.Listeners{UDP: udpConn, TCP: tcpLn, TLS: tlsLn})
//
// Run serves until ctx ends and closes the listeners. Listeners are injected
// so tests bind 127.0.0.1:0. Config.MaxUDPMessage raises sipgo's UDP size
// limit (a package variable of sipgo, written once by New).
//
// # What the call layer uses
//
//   - Handle(method, h): requests other than REGISTER and OPTIONS go to h;
//     methods without a handler are answered 501 (ACK is never answered).
//   - Authenticate(req, tx) (Extension, bool): digest check for INVITE and
//     others. When false, the request has been answered (401 challenge or
//     403) or silently dropped (banned source): just return.
//   - Respond / RespondWith: answer through the server so
//     pbx_sip_responses_total counts every response.
//   - Lookup(ext) []Binding: the contacts to ring now (registered, unexpired,
//     answering OPTIONS); ring them all together. Bindings(ext) lists every
//     unexpired contact, available or not.
//   - Request(ctx, binding, req): send a request (INVITE, BYE...) to a
//     contact the NAT way: to Binding.Source by Binding.Transport, from the
//     UDP listening socket or over the phone's TCP/TLS connection.
//   - OnChange(ext, available): told on register, unregister, expiry and
//     qualify changes; turn it into device states and events.
//
// # Authentication
//
// Challenges carry qop=auth and offer MD5 and SHA-256 in two
// WWW-Authenticate headers (MD5 first: SIPp and baresip answer only the
// first; User-Agents in Config.MD5OnlyAgents get MD5 alone). Nonces are
// stateless: issue time plus an HMAC under a key drawn at boot; an expired
// one with a correct response is answered 401 stale=true. Secrets are HA1s
// only (see HA1). Unknown and disabled extensions are checked against a
// dummy HA1 and get the same 401 then 403 as a wrong password, so answers
// do not reveal which extensions exist. The digest username must equal the
// user part of To.
//
// Config.BanThreshold failures from one IP within BanWindow ban it for
// BanTime: its packets are dropped before parsing. Config.Trusted networks
// are exempt.
//
// # Calls
//
// NewCalls(srv, pool, dir, cfg) handles INVITE, ACK, BYE, CANCEL, UPDATE,
// INFO and REFER; SetManager attaches the call layer. An INVITE becomes a
// channel handed to CallManager.Incoming; Dial rings every available
// contact of an extension. Media is always anchored in the box. Each leg
// takes its DTMF mode from its extension (CallerInfo.DTMFMode).
//
// # Dialogs
//
// sipgo carries the transactions; the dialogs are ours (dialog.go). A leg
// keeps what RFC 3261 §12 says a dialog is, Call-ID, tags, route set,
// remote target and CSeq, and no message: the INVITE and its responses
// are dropped once the 2xx has its ACK. An incoming INVITE is answered in
// its transaction (provisional and failure responses; a CANCEL there ends
// the leg) except for the 2xx, which is sent after the transaction is
// ended and repeated T1, 2×T1, ... T2 until the ACK, for 64×T1 at most
// (§13.3.1.4); a late copy of an answered INVITE is recognised by Call-ID,
// From tag and CSeq and dropped. An outgoing INVITE answers a carrier's
// 401/407 (answerChallenge, at most twice), is cancelled only after a
// provisional response (§9.1), and a 2xx that crosses its CANCEL is
// acknowledged and ended with BYE. Over UDP it has no client transaction:
// the leg repeats it (T1, 2×T1, ... until a response, none after 64×T1),
// takes its responses as stray ones (the server passes responses that
// match no transaction to Calls) and acknowledges a failure with the
// INVITE's branch (§17.1.1), the ACK kept 32 s (Timer D) to answer each
// repeat of the failure, after the leg has ended too; over TCP and TLS
// sipgo's transaction does.
// Our ACK to a 2xx is sent again when the 2xx is. sipgo keeps an INVITE
// transaction reachable 32 s after it ended (Timers L and M are not
// stopped), with its messages: hence the 2xx and UDP INVITEs outside them.
//
// # Hold
//
// A re-INVITE or UPDATE whose SDP offers sendonly, inactive or c=0.0.0.0
// is hold: the leg sends call.SignalHold, and SignalRetrieve when a later
// offer is sendrecv again. The answer gives the direction RFC 3264 asks
// (sendonly → recvonly, inactive → inactive) and keeps the leg's codec. A
// re-INVITE without SDP gets our offer in the 200 and the answer is read
// from the ACK. The held party's leg is not re-negotiated: the call layer
// only changes what the box sends it (hold music).
//
// # DTMF
//
// Modes per extension: rfc4733 (the default), info, inband. Whatever the
// mode, a leg receives RFC 4733 events (when telephone-event was
// negotiated), SIP INFO with application/dtmf-relay or application/dtmf
// (any other body type: 415; an empty INFO is a keepalive, 200), and on
// in-band legs the tones found by media/dtmf's detector; each digit is one
// call.SignalDTMF. SendDTMF sends in the leg's mode: RFC 4733 events (tones
// when the phone negotiated no telephone-event), an INFO with
// application/dtmf-relay, or tones in the leg's codec; the relay is muted
// meanwhile. INFO and in-band legs are offered no telephone-event, so the
// relay never passes them events.
//
// # Transfers
//
// REFER (RFC 3515) from either leg of a call: 400 without a usable
// Refer-To, 481 when its Replaces names no dialog we know, else 202 and a
// call.SignalTransfer (blind, or attended with Replaces). Progress comes
// back as NOTIFYs with a message/sipfrag body: 100 Trying, 180 Ringing,
// then 200 OK or the failure's status (486, 404, 480...), which ends the
// implicit subscription; after 60 s without an outcome, 408. Refer-Sub:
// false (RFC 4488) is honoured: 202 with Refer-Sub: false, no NOTIFYs.
//
// An INVITE with Replaces (RFC 3891) is authenticated like any INVITE; 400
// for a malformed header, 481 for a dialog we do not know; otherwise it goes
// to CallManager.Replace, which hangs the new leg up (486, or 404 when the
// named leg is in no call) if it cannot take the named leg's place.
//
// # Presence (busy lamps)
//
// NewPresence(srv, states, exists, cfg) serves the dialog event package
// (RFC 6665, RFC 4235): an authenticated SUBSCRIBE to an existing extension
// gets 200 and an immediate NOTIFY with the full state, then one NOTIFY per
// lamp change: no dialog when idle or unregistered, an early dialog
// (direction recipient) while it rings, a confirmed one in a call, and the
// ended dialog as terminated once after a call. Other event packages: 489
// with Allow-Events: dialog. Expires defaults to 600 s, 60-3600 (423 below,
// clamped above; 0 fetches the state once). Refreshes within the
// subscription are not challenged. PresenceConfig bounds the box (10 000,
// 503) and each subscriber (200, 403). Subscriptions live in memory; a
// restart makes refreshes 481 and phones subscribe again. The appliance
// feeds DeviceChanged from the device.state_changed events of the bus.
//
// # Trunks
//
// NewTrunks(srv, opts) keeps the carrier connections; Set(cfgs) starts,
// restarts (on a changed configuration) and stops them. Everything leaves
// from the server's sockets (Server.Request), so carriers see the box's
// usual address and port. A registration trunk sends REGISTER to
// Host:Port with Contact sip:Username@<advertised address>:<listen port>,
// answers a 401/407 with digest (SHA-256 when offered, else MD5; the
// realm the carrier names, or only TrunkConfig.Realm when set;
// AuthUsername or Username), re-registers at 80 % of the lifetime granted
// to its Contact, retries 5 s, 10 s... up to 5 min while the carrier fails
// or is silent, and unregisters (Expires: 0) when Set removes or changes
// it and on Close. Every trunk is sent OPTIONS each OptionsInterval: three
// unanswered in a row mark it down, any final response up. Status lists
// registration, reachability, the last error and calls in progress;
// TrunkOptions.OnChange is told each change.
//
// Match(req) names the trunk an INVITE comes from: a registration trunk
// whose Username is the Request-URI user and whose addresses (Addresses,
// else Host's resolved addresses) hold the source; else any trunk whose
// addresses hold the source. A request from no trunk is a phone's and
// authenticates. CalledNumber and CallerNumber read the numbers where the
// trunk says (Request-URI, To or first Diversion; From or first
// P-Asserted-Identity). BeginCall/End count calls against MaxCalls.
// answerChallenge is the client side of digest for any request (an
// outbound INVITE answering a carrier's 401/407 too).
//
// # Metrics
//
// pbx_sip_requests_total{method}, pbx_sip_responses_total{code_class},
// pbx_registrations, pbx_auth_failures_total, pbx_banned_sources,
// pbx_sip_subscriptions, pbx_trunk_up{trunk}, pbx_trunk_calls_active{trunk},
// pbx_trunk_calls_total{trunk,direction,result}.
//
// Package siptest holds a sipgo-based test phone for this package's tests
// and later end-to-end tests (it lives here because only pbx/sip may import
// sipgo).
package sip
