// Package audiotest proves audio by tone in, tone out: it writes tone and
// silence WAV files for peers to send (baresip's aufile source, Chromium's
// fake microphone, SIPp), reads the WAV files peers record, and detects a
// tone in the samples with the Goertzel algorithm.
//
// A call test sends one frequency from each end and asserts, at the other
// end, that the expected tone is there (HasTone, HasTones) and that the tone
// of a party who must not be heard is not (Absent). A 200 OK proves
// signalling; only a tone proves media.
//
// The package is used by the tests in tests/ only. It must not import any
// package of the appliance (config, media, pbx, webui, appliance): it checks
// their output from the outside, so it carries its own WAV and G.711 code.
package audiotest
