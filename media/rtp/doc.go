// Package rtp is the appliance's anchored RTP relay: every call leg's media
// terminates in an Endpoint here, and a bridge forwards packets between two
// endpoints on a fast path that never decodes audio.
//
// What it owns:
//   - PortPool: even RTP ports (and RTP+1 for RTCP) from the configured
//     range, bound on one IP. A closed endpoint's sockets are parked, still
//     bound and polled, and handed to a later endpoint (oldest first, after
//     what queued on them is discarded), because opening, registering and
//     closing them was a large share of a short call's system calls.
//     Parked pairs are bounded, closed after an idle time, and closed at
//     once when a pool not under churn has no endpoint left.
//   - Relay loops (a few, one per GOMAXPROCS): each polls many endpoints'
//     non-blocking sockets with its own edge-triggered epoll, parks in Go's
//     netpoller on that epoll descriptor when nothing is ready, and relays
//     whatever one wake-up finds, so the cost per packet is the two system
//     calls and not a goroutine wake-up as well. Attaching an endpoint to
//     a parked pair, and detaching it, costs no system call and no wake-up
//     of the loop. A loop's goroutine runs only while it has endpoints.
//     Linux only, like the appliance.
//   - Endpoint: one leg's sockets, read by one loop, written by any goroutine.
//     Symmetric RTP (RFC 4961 practice): an endpoint sends to where the
//     peer's packets come from, latching onto the first packet's source, so
//     a phone behind NAT whose SDP names an unreachable address still hears
//     audio. Once latched, other sources are ignored until the latched one
//     has been silent for a while, so a stray sender cannot hijack a call.
//   - The output stream of each endpoint has its own SSRC and continuous
//     sequence and timestamp numbering: whoever feeds it (the other leg, a
//     new leg after a transfer, a player), and whatever the source's SSRC
//     does, the phone sees one stream.
//   - Sink: where an endpoint's received packets go, swapped atomically.
//     Bridge points two endpoints at each other; Unbridge detaches them
//     without closing sockets, so hold music or a mixer can take over.
//   - Hooks for the call layer: a Tap sees each received audio packet
//     (an in-band DTMF detector), an EventFunc each telephone-event packet,
//     and MuteRelay silences the bridged peer while the box plays its own
//     packets (a DTMF tone, music) into a leg with Send.
//   - Virtual endpoints (PortPool.Virtual): no socket and no loop; what
//     they send goes to a Transport function and what the transport
//     receives is handed to Receive. A browser seat's PeerConnection is one
//     (media/webrtc): a call bridges a virtual endpoint onto the seat like
//     any leg, and the relay code is the same for both kinds.
//   - PCMU↔PCMA transcoding in place with media/codec's byte tables when the
//     legs differ; payload-type mapping of telephone-event.
//   - RTP timeout (a callback when no packet arrived for a set time), RTCP
//     received and counted (not relayed), per-endpoint statistics and the
//     pbx_rtp_* metrics.
//
// The hot path (read, parse, latch, rewrite, write) allocates nothing and
// takes no lock other than the output stream's own uncontended mutex;
// counters are atomics. Sinks, event hooks and timeout callbacks run on a
// loop shared with other calls: they must not block.
//
// The package imports config and media/codec; never pbx, webui or sipgo.
package rtp
