package player

import (
	"math"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/dtmf"
)

func TestNewSound(t *testing.T) {
	pcm := make([]int16, 400) // 2.5 frames
	for i := range pcm {
		pcm[i] = int16(i * 10)
	}
	s := NewSound("ramp", pcm)
	if s.Name() != "ramp" || s.Duration() != 50*time.Millisecond || s.Frames() != 3 {
		t.Fatalf("name %q duration %v frames %d", s.Name(), s.Duration(), s.Frames())
	}
	for _, c := range []codec.Codec{codec.PCMU, codec.PCMA} {
		for i := range s.Frames() {
			f := s.Frame(c, i)
			if len(f) != FrameSamples {
				t.Fatalf("%v frame %d: %d bytes", c, i, len(f))
			}
			for j, b := range f {
				k := i*FrameSamples + j
				want := c.Encode(0) // padding
				if k < len(pcm) {
					want = c.Encode(pcm[k])
				}
				if b != want {
					t.Fatalf("%v sample %d: %#x, want %#x", c, k, b, want)
				}
			}
		}
		if s.Frame(c, -1) != nil || s.Frame(c, 3) != nil {
			t.Errorf("%v: out-of-range frame not nil", c)
		}
	}
	if got, want := s.Frame(codec.Unknown, 0)[5], s.Frame(codec.PCMU, 0)[5]; got != want {
		t.Errorf("Unknown codec frame is not PCMU")
	}
	if empty := NewSound("empty", nil); empty.Frames() != 0 || empty.Duration() != 0 {
		t.Errorf("empty sound: %d frames", empty.Frames())
	}
}

// goertzel returns the power of freq in x, scaled so a sine of amplitude A
// filling x gives A²·len(x)/2, the sine's energy.
func goertzel(x []int16, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/codec.ClockRate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return (s1*s1 + s2*s2 - c*s1*s2) * 2 / float64(len(x))
}

// decodeAll decodes a sound's frames in c.
func decodeAll(s *Sound, c codec.Codec) []int16 {
	var pcm []int16
	for i := range s.Frames() {
		pcm = codec.DecodeG711(c, s.Frame(c, i), pcm)
	}
	return pcm
}

// dominant returns the note of notes that carries most of x's energy, and
// false when none carries over half (silence, a transition).
func dominant(x []int16, notes []float64) (float64, bool) {
	var energy float64
	for _, v := range x {
		energy += float64(v) * float64(v)
	}
	for _, f := range notes {
		if energy > 1e6 && goertzel(x, f) > 0.5*energy {
			return f, true
		}
	}
	return 0, false
}

// TestHoldMusic: the tune is 8-12 s of the listed notes only, each at
// least 250 ms, no note at a DTMF or test-tone frequency, no click, and an
// in-band DTMF detector hears nothing in it.
func TestHoldMusic(t *testing.T) {
	for _, f := range HoldMusicNotes {
		if f < 300 || f > 900 {
			t.Errorf("note %v Hz outside 300-900 Hz", f)
		}
		for _, avoid := range []float64{697, 770, 852, 941, 1000, 1209, 1336, 1477, 1633} {
			if math.Abs(f-avoid) < 25 {
				t.Errorf("note %v Hz within 25 Hz of %v Hz", f, avoid)
			}
		}
	}
	s := HoldMusic()
	if s != HoldMusic() {
		t.Error("HoldMusic made twice")
	}
	if d := s.Duration(); d < 8*time.Second || d > 12*time.Second {
		t.Errorf("duration %v", d)
	}
	for _, c := range []codec.Codec{codec.PCMU, codec.PCMA} {
		pcm := decodeAll(s, c)
		// Every loud 20 ms frame is one of the notes; runs of one note last
		// at least 250 ms.
		seen := map[float64]bool{}
		var cur float64
		run := 0
		for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
			f, ok := dominant(pcm[i:i+FrameSamples], HoldMusicNotes)
			if !ok {
				continue // a note's attack or release
			}
			seen[f] = true
			if f != cur {
				if cur != 0 && run < 10 {
					t.Errorf("%v: note %v Hz lasted %d frames", c, cur, run)
				}
				cur, run = f, 0
			}
			run++
		}
		if len(seen) != len(HoldMusicNotes) {
			t.Errorf("%v: heard %d of %d notes", c, len(seen), len(HoldMusicNotes))
		}
		// No clicks: the sample-to-sample step stays within what the
		// highest note at full level makes, also across the loop point.
		maxStep := 2 * math.Pi * 700 / codec.ClockRate * holdLevel * math.MaxInt16 * 1.2
		for i := range pcm {
			if d := math.Abs(float64(pcm[i]) - float64(pcm[(i+len(pcm)-1)%len(pcm)])); d > maxStep {
				t.Fatalf("%v: step of %v at sample %d", c, d, i)
			}
		}
		var det dtmf.Detector
		if evs := det.Feed(append(pcm, pcm...)); len(evs) != 0 {
			t.Errorf("%v: DTMF detector heard %v", c, evs)
		}
	}
}

func TestTones(t *testing.T) {
	tests := []struct {
		name     string
		s        *Sound
		duration time.Duration
		freq     float64
		on       []time.Duration // where the tone is, each checked over 100 ms
		off      []time.Duration // where silence is
	}{
		{"ringback", Ringback(), 5 * time.Second, 450, []time.Duration{0, 900 * time.Millisecond}, []time.Duration{time.Second, 4900 * time.Millisecond}},
		{"beep", Beep(), 500 * time.Millisecond, 880, []time.Duration{0, 400 * time.Millisecond}, []time.Duration{200 * time.Millisecond}},
		{"error", Error(), 2100 * time.Millisecond, 450, []time.Duration{0, 700 * time.Millisecond, 1400 * time.Millisecond}, []time.Duration{350 * time.Millisecond, 1750 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.s.Duration() != tc.duration {
				t.Errorf("duration %v, want %v", tc.s.Duration(), tc.duration)
			}
			pcm := decodeAll(tc.s, codec.PCMA)
			at := func(d time.Duration) []int16 { i := samplesOf(d); return pcm[i : i+800] }
			for _, d := range tc.on {
				if f, ok := dominant(at(d), []float64{tc.freq}); !ok || f != tc.freq {
					t.Errorf("no %v Hz at %v", tc.freq, d)
				}
			}
			for _, d := range tc.off {
				for _, v := range at(d) {
					if v > 16 || v < -16 {
						t.Fatalf("sound at %v: %d", d, v)
					}
				}
			}
		})
	}
}
