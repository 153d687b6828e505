package player

import (
	"sync"
	"time"
)

// HoldMusicNotes are the only frequencies (Hz) the hold music uses: an E
// minor pentatonic scale from E4 to E5 (equal temperament), all between
// 300 and 900 Hz and at least 25 Hz from every DTMF frequency (697, 770,
// 852, 941, 1209, 1336, 1477, 1633 Hz) and from the 1000 Hz test tone, so
// neither an in-band DTMF detector nor a test listening for a peer's tones
// mistakes the music for them. Tests listen for these.
var HoldMusicNotes = []float64{329.63, 392.00, 440.00, 493.88, 587.33, 659.25}

// holdMelody is the tune: indexes into HoldMusicNotes and lengths in
// beats of 300 ms (so every note lasts at least 300 ms). 32 beats, 9.6 s:
// two phrases, each ending on a long note, and the second leads back to
// the first when it loops.
var holdMelody = []struct{ note, beats int }{
	{0, 2}, {2, 1}, {3, 1}, {4, 2}, {3, 2},
	{2, 1}, {3, 1}, {2, 1}, {1, 1}, {0, 4},
	{1, 2}, {2, 1}, {3, 1}, {5, 2}, {4, 2},
	{3, 1}, {2, 1}, {3, 1}, {1, 1}, {2, 4},
}

const (
	holdBeat = 300 * time.Millisecond
	// holdLevel is each note's peak, a quarter of full scale (-12 dBFS):
	// background music, quieter than speech peaks.
	holdLevel = 0.25
)

// The appliance's sounds, made once on first use: constant data, like a
// table, shared by every playback.
var (
	holdMusic = sync.OnceValue(func() *Sound {
		segs := make([]tone, 0, len(holdMelody))
		for _, n := range holdMelody {
			segs = append(segs, tone{HoldMusicNotes[n.note], holdLevel, time.Duration(n.beats) * holdBeat})
		}
		return NewSound("hold-music", synth(segs, 40*time.Millisecond, 80*time.Millisecond))
	})
	ringback = sync.OnceValue(func() *Sound {
		return NewSound("ringback", synth([]tone{
			{RingbackFreq, 0.2, time.Second}, {0, 0, 4 * time.Second},
		}, 5*time.Millisecond, 5*time.Millisecond))
	})
	beep = sync.OnceValue(func() *Sound {
		return NewSound("beep", synth([]tone{
			{880, 0.25, 200 * time.Millisecond}, {0, 0, 100 * time.Millisecond}, {880, 0.25, 200 * time.Millisecond},
		}, 5*time.Millisecond, 5*time.Millisecond))
	})
	errorTone = sync.OnceValue(func() *Sound {
		var segs []tone
		for range 3 {
			segs = append(segs, tone{RingbackFreq, 0.25, 350 * time.Millisecond}, tone{0, 0, 350 * time.Millisecond})
		}
		return NewSound("error", synth(segs, 5*time.Millisecond, 5*time.Millisecond))
	})
)

// RingbackFreq is the frequency of the ring-back and congestion tones in
// China (GB 3380 / ITU-T E.180): 450 Hz.
const RingbackFreq = 450

// HoldMusic is the default music on hold: a calm 9.6 s tune of sine notes
// (HoldMusicNotes) with soft attacks and releases, to loop.
func HoldMusic() *Sound { return holdMusic() }

// Ringback is the ring-back tone a caller hears while the box rings
// someone for them: 450 Hz for 1 s, then 4 s of silence; loop it.
func Ringback() *Sound { return ringback() }

// Beep confirms a feature code: two 200 ms beeps of 880 Hz, 100 ms apart.
func Beep() *Sound { return beep() }

// Error reports a feature code that failed: the congestion tone, 450 Hz
// 350 ms on and 350 ms off, three times.
func Error() *Sound { return errorTone() }
