// Package webrtc is the media side of browser seats: one WebRTC
// PeerConnection per seat (a browser acting as an extension's phone),
// answering the page's offer, with DTLS-SRTP audio in G.711 and RFC 4733
// telephone-event both ways.
//
// What it owns:
//   - Engine: the pion API every seat shares — one UDP socket for all
//     peers (ICE UDP mux), host candidates only (the configured address,
//     or the public address in its place behind a 1:1 NAT), a media engine
//     limited to PCMU, PCMA and telephone-event/8000 (no transcoding here:
//     the relay in media/rtp maps payload types and transcodes), and RTCP
//     sender and receiver reports as the only interceptors (audio needs no
//     NACK or congestion control).
//   - Peer: one seat's connection. Its inbound RTP goes to one receiver
//     function; its outbound stream takes whole RTP packets (WriteRTP is an
//     rtp.Transport, so a virtual rtp.Endpoint feeds it), keeping their
//     payload type, sequence and timestamp and putting in the sender's SSRC.
//     Connection state changes are reported, coalesced, in order, to the
//     owner's callback; Quality reads RTT, loss and jitter from RTCP.
//
// The seat's connection is set up once, when the user goes online, and
// stays up across calls: the call layer bridges a virtual rtp.Endpoint onto
// it for each call, so answering costs no ICE or DTLS round trip.
//
// This is the only package that imports pion/webrtc. It imports media/rtp
// and media/codec; never pbx, webui or sipgo.
package webrtc
