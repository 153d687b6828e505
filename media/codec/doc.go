// Package codec holds the audio codecs the appliance speaks: G.711 µ-law
// (PCMU) and A-law (PCMA), bit-exact with the ITU-T G.711 reference
// implementation (the Sun/CCITT g711.c that G.191 ships), plus byte tables
// that translate µ-law to A-law and back so the RTP fast path can transcode a
// packet in place without decoding to PCM.
//
// All tables are constant data computed once; the package has no mutable
// state. It imports nothing of the appliance.
package codec
