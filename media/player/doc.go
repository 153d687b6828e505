// Package player plays the appliance's own audio into call legs: music on
// hold, ring-back, confirmation and error tones, and later prompts.
//
// What it owns:
//   - Sound: audio pre-encoded in both G.711 laws when it is made, so
//     playing it costs a copy per frame and no encoding.
//   - The sounds that ship with the appliance (HoldMusic, Ringback, Beep,
//     Error), synthesized by this package from note tables at first use:
//     no recording, so nothing to license.
//   - Player: one clock (a single goroutine ticking every 20 ms while
//     anything plays, none when idle) that paces every Playback, each an
//     RTP stream of its own sent through rtp.Endpoint.Send, which renumbers
//     it into the leg's output so the phone sees one continuous stream when
//     the leg is bridged again.
//
// It imports media/rtp and media/codec; never pbx, webui or sipgo. The call
// layer decides what plays where and when.
package player
