// Package seat makes a browser a phone: a seat is one extension's device of
// kind "seat", driven by the softphone page over the event WebSocket and
// carried by one WebRTC peer (media/webrtc) that is set up when the user
// goes online and stays up while they are.
//
// What it owns:
//
//   - Registry: the seats online, one per extension, found by extension and
//     by resume token; Registry.Dial rings a seat (call.Dialer for devices
//     of kind seat); liveness; the seats' metrics.
//   - Conn: one WebSocket's side of the seat protocol (docs/events.md,
//     "Browser seats"): going online (SDP offer/answer, trickled ICE),
//     resuming after a reconnect, dialing, answering, hang-up, hold,
//     retrieve, blind transfer, where calls ring.
//   - leg: a call.Channel (and call.Outgoing when the seat is rung) whose
//     media is a virtual rtp.Endpoint bridged onto the seat's peer: a call
//     costs no ICE or DTLS round trip, and the relay, hold music, DTMF and
//     CDRs work as for SIP legs.
//
// Liveness: a page pings every 2 s; a page silent for DetachAfter, or
// whose socket closed, is detached: the seat is unavailable (not rung)
// while its call goes on. A resume within GoneAfter re-attaches it; after
// that the seat goes offline. ICE consent lost makes the seat unavailable;
// a failed or closed peer takes it offline at once.
//
// seat imports media (rtp, webrtc, dtmf, codec), pbx/call and pbx/event;
// it must not import pbx/sip, webui or appliance.
package seat
