package dtmf

import "math"

// Detector parameters. The detector looks at windows of windowSize samples
// (20 ms, one G.711 RTP frame) every hop samples (10 ms), so a tone that
// starts anywhere in a frame still fills whole windows.
const (
	windowSize = 160
	hop        = windowSize / 2

	// onWindows consecutive windows with the same digit make a press. A
	// window passes only when the tone fills most of it (see minPurity), so
	// a tone of 40 ms is caught whatever its alignment, one of 34-40 ms at
	// some alignments, one of 30 ms never (ITU-T Q.24's 40 ms minimum).
	onWindows = 3
	// offWindows consecutive windows without a digit end a press, so the
	// same key can be reported again: a pause of 30 ms or more always does.
	offWindows = 4

	// minTonePower is the weakest tone accepted, as the power one sine of
	// amplitude 250 (about -42 dBFS) gives over a window.
	minTonePower = 250 * 250 * windowSize / 2
	// maxTwist bounds the power ratio of the two tones either way: 8 dB
	// (ITU-T Q.24's forward and reverse twist).
	maxTwist = 6.31
	// peakRatio is how far every other frequency of a group must stay below
	// the group's strongest (6 dB), which rejects chords and noise.
	peakRatio = 0.25
	// minPurity is the share of the window's energy the two tones must
	// carry: speech and music spread theirs over many frequencies.
	minPurity = 0.7
)

// goertzel holds the coefficient 2cos(2πf/fs) of each DTMF frequency: low
// group first, then high.
var goertzelCoeff = func() (c [8]float64) {
	for i, f := range append(lowFreqs[:], highFreqs[:]...) {
		c[i] = 2 * math.Cos(2*math.Pi*f/ClockRate)
	}
	return c
}()

// Detector finds DTMF digits in 8 kHz linear audio: Goertzel filters at the
// eight frequencies; a window holds a digit when one low and one high
// frequency are present above a floor, within the twist limits, clearly
// stronger than their groups' other frequencies, and carrying most of the
// window's energy. A single tone (a 1000 Hz test tone, a note of music)
// or speech does not pass. The zero value is ready; a Detector is not safe
// for concurrent use (it belongs to one leg's tap).
type Detector struct {
	buf [windowSize]float64
	n   int // samples in buf

	last     rune // the digit of the latest windows, 0 for none
	run      int  // consecutive windows with last
	reported rune // the press reported and not yet released by a pause, 0 for none
}

// Feed takes the next samples, in chunks of any size, and returns the key
// presses that became certain in them: each reported once, when it has
// lasted about 40 ms, with Duration the time seen so far. It returns nil
// (and allocates nothing) when there are none.
func (d *Detector) Feed(samples []int16) []Event {
	var events []Event
	for _, s := range samples {
		d.buf[d.n] = float64(s)
		d.n++
		if d.n < windowSize {
			continue
		}
		if ev, ok := d.step(window(&d.buf)); ok {
			events = append(events, ev)
		}
		copy(d.buf[:], d.buf[hop:])
		d.n = windowSize - hop
	}
	return events
}

// Reset forgets any tone in progress (the audio source changed).
func (d *Detector) Reset() { *d = Detector{} }

// step advances the press state machine by one window's verdict.
func (d *Detector) step(digit rune) (Event, bool) {
	if digit == d.last {
		d.run = min(d.run+1, onWindows+offWindows) // only small counts matter
	} else {
		d.last, d.run = digit, 1
	}
	switch {
	case digit == 0 && d.run >= offWindows:
		d.reported = 0
	case digit != 0 && d.run >= onWindows && digit != d.reported:
		// A different key, even without a pause, is a new press; the same
		// key after a dropout shorter than a pause is the same press.
		d.reported = digit
		return Event{Digit: digit, Duration: samplesToDuration(windowSize + (d.run-1)*hop)}, true
	}
	return Event{}, false
}

// window returns the digit in one window of samples, 0 for none.
func window(x *[windowSize]float64) rune {
	var energy float64
	for _, v := range x {
		energy += v * v
	}
	if energy == 0 {
		return 0
	}
	var p [8]float64
	for i, c := range goertzelCoeff {
		var s1, s2 float64
		for _, v := range x {
			s1, s2 = v+c*s1-s2, s1
		}
		// |X|² scaled by 2/N: the power of a sine that fills the window.
		p[i] = (s1*s1 + s2*s2 - c*s1*s2) * 2 / windowSize
	}
	row, ok := strongest(p[:4])
	if !ok {
		return 0
	}
	col, ok := strongest(p[4:])
	if !ok {
		return 0
	}
	lo, hi := p[row], p[4+col]
	if lo < minTonePower || hi < minTonePower || hi > lo*maxTwist || lo > hi*maxTwist {
		return 0
	}
	if lo+hi < minPurity*energy {
		return 0
	}
	return keypad[row][col]
}

// strongest returns the index of the strongest of a group's powers, and
// false unless all the others are well below it.
func strongest(p []float64) (int, bool) {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	for i := range p {
		if i != best && p[i] > p[best]*peakRatio {
			return 0, false
		}
	}
	return best, true
}
