// Package media is the root of the appliance's media plane: everything that
// touches audio samples or RTP packets lives below it.
//
//   - media/codec: G.711 µ-law and A-law, and the byte tables that transcode
//     one into the other without a PCM step.
//   - media/sdp: the SDP offers and answers a B2BUA reads and writes.
//   - media/rtp: the anchored RTP relay (port pool, endpoints, symmetric
//     latching, SSRC/sequence/timestamp rewriting, timeouts, statistics).
//   - media/dtmf: digits as RFC 4733 events, as in-band tones (generator
//     and detector) and as characters.
//   - media/player: the box's own sounds (hold music, ring-back, beep,
//     error tone), paced into legs by one clock.
//
// Media sits after config and before pbx in the import order: no package
// under media imports pbx, webui or appliance, and none imports sipgo. The
// call layer (pbx/call) drives media through the small APIs here.
package media
