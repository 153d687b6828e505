// Package sip is the appliance's SIP front: transports (UDP and TCP on one
// address, TLS on another), digest authentication, source bans, the
// registrar (RFC 3261 §10) and OPTIONS qualify. It is the only package that
// imports sipgo; it imports nothing of pbx/call, webui or appliance, and
// declares the small store interfaces it needs (Directory, BindingStore).
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
// # Metrics
//
// pbx_sip_requests_total{method}, pbx_sip_responses_total{code_class},
// pbx_registrations, pbx_auth_failures_total, pbx_banned_sources.
//
// Package siptest holds a sipgo-based test phone for this package's tests
// and later end-to-end tests (it lives here because only pbx/sip may import
// sipgo).
package sip
