// Package sdp reads and writes the subset of SDP (RFC 4566) and the
// offer/answer model (RFC 3264) that a B2BUA anchoring G.711 audio needs:
// where the peer wants audio sent (connection address and port), which
// payload types it offers and in what order (rtpmap, fmtp), ptime and the
// direction attribute; and, the other way, offers and answers naming the
// appliance's own address and port with the codecs it chooses.
//
// The parser is small and strict about structure (a malformed line is an
// error, never a guess) while ignoring attributes it does not need, so SDP
// from browsers with ICE and DTLS attributes parses too. It reads the network,
// so it has a fuzz test.
//
// The package imports media/codec and the standard library only; it never
// imports pbx or webui.
package sdp
