package audiotest_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/audiotest"
)

// noise returns white noise with a uniform distribution at the given RMS
// level (dBFS), from a fixed seed so every run sees the same signal.
func noise(rate int, dur time.Duration, dbfs float64) []int16 {
	n := int(int64(rate) * int64(dur) / int64(time.Second))
	r := rand.New(rand.NewPCG(1, 2))
	// A uniform distribution on [-a, a] has an RMS of a/√3.
	a := 32768 * math.Pow(10, dbfs/20) * math.Sqrt(3)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16((r.Float64()*2 - 1) * a)
	}
	return out
}

// scaled returns a sine at freq with the given peak amplitude.
func sine(rate int, dur time.Duration, freq, amp float64) []int16 {
	n := int(int64(rate) * int64(dur) / int64(time.Second))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// mix adds signals sample by sample, saturating; the result is as long as
// the longest input.
func mix(signals ...[]int16) []int16 {
	var n int
	for _, s := range signals {
		n = max(n, len(s))
	}
	out := make([]int16, n)
	for i := range out {
		var v int
		for _, s := range signals {
			if i < len(s) {
				v += int(s[i])
			}
		}
		out[i] = int16(min(max(v, math.MinInt16), math.MaxInt16))
	}
	return out
}

func concat(signals ...[]int16) []int16 {
	var out []int16
	for _, s := range signals {
		out = append(out, s...)
	}
	return out
}

func TestDetectors(t *testing.T) {
	const sec = time.Second
	type check struct {
		freqs []float64
		has   bool // HasTones(freqs...)
	}
	tests := []struct {
		name    string
		rate    int
		samples []int16
		has     []check
		absent  map[float64]bool // Absent(freq)
	}{
		{
			name:    "tone present",
			rate:    8000,
			samples: audiotest.Tone(8000, sec, 1000),
			has:     []check{{[]float64{1000}, true}, {[]float64{1500}, false}, {[]float64{950}, false}},
			absent:  map[float64]bool{1000: false, 1500: true, 400: true},
		},
		{
			name:    "tone present at 48 kHz",
			rate:    48000,
			samples: audiotest.Tone(48000, sec, 440),
			has:     []check{{[]float64{440}, true}, {[]float64{1000}, false}},
			absent:  map[float64]bool{440: false, 1000: true},
		},
		{
			name:    "tone a few hertz off",
			rate:    8000,
			samples: audiotest.Tone(8000, sec, 1006),
			has:     []check{{[]float64{1000}, true}},
			absent:  map[float64]bool{1000: false},
		},
		{
			name:    "two tones",
			rate:    8000,
			samples: audiotest.Tone(8000, sec, 697, 1209),
			has: []check{
				{[]float64{697, 1209}, true},
				{[]float64{697}, false},
				{[]float64{1209}, false},
				{[]float64{697, 1000}, false},
			},
			absent: map[float64]bool{697: false, 1209: false, 1000: true, 2000: true},
		},
		{
			name:    "absent tone",
			rate:    16000,
			samples: audiotest.Tone(16000, sec, 1000),
			has:     []check{{[]float64{2000}, false}},
			absent:  map[float64]bool{2000: true, 3000: true, 500: true},
		},
		{
			name:    "noise",
			rate:    8000,
			samples: noise(8000, 2*sec, -20),
			has:     []check{{[]float64{1000}, false}, {[]float64{440}, false}},
			absent:  map[float64]bool{1000: true, 440: true, 3000: true},
		},
		{
			name:    "tone in noise 30 dB below it",
			rate:    8000,
			samples: mix(audiotest.Tone(8000, sec, 1000), noise(8000, sec, -39)),
			has:     []check{{[]float64{1000}, true}},
			absent:  map[float64]bool{1000: false, 1500: true},
		},
		{
			name:    "tone buried in louder noise",
			rate:    8000,
			samples: mix(sine(8000, sec, 1000, 100), noise(8000, sec, -10)),
			has:     []check{{[]float64{1000}, false}},
			absent:  map[float64]bool{1000: true},
		},
		{
			name:    "silence",
			rate:    8000,
			samples: make([]int16, 8000),
			has:     []check{{[]float64{1000}, false}, {[]float64{697, 1209}, false}},
			absent:  map[float64]bool{1000: true},
		},
		{
			name: "tone and a louder other tone",
			rate: 8000,
			// 1000 Hz is 26 dB above 440 Hz: it is a tone alone, 440 Hz is
			// not, but 440 Hz is far above the absence level.
			samples: mix(sine(8000, sec, 440, 800), sine(8000, sec, 1000, 16000)),
			has: []check{
				{[]float64{1000}, true},
				{[]float64{440}, false},
				{[]float64{440, 1000}, false},
			},
			absent: map[float64]bool{440: false, 1000: false, 2000: true},
		},
		{
			name:    "tone and another 6 dB louder",
			rate:    8000,
			samples: mix(sine(8000, sec, 440, 5000), sine(8000, sec, 1000, 10000)),
			has: []check{
				{[]float64{1000}, false},
				{[]float64{440}, false},
				{[]float64{440, 1000}, true},
			},
			absent: map[float64]bool{440: false, 1000: false},
		},
		{
			name:    "tone then silence",
			rate:    8000,
			samples: concat(audiotest.Tone(8000, sec/2, 1000), make([]int16, 8000)),
			has:     []check{{[]float64{1000}, true}},
			absent:  map[float64]bool{1000: false},
		},
		{
			name:    "tone then another tone",
			rate:    8000,
			samples: concat(audiotest.Tone(8000, sec/2, 1000), audiotest.Tone(8000, sec/2, 1500)),
			has:     []check{{[]float64{1000}, false}, {[]float64{1500}, false}},
			absent:  map[float64]bool{1000: false, 1500: false, 700: true},
		},
		{
			name:    "a click of tone in silence",
			rate:    8000,
			samples: concat(make([]int16, 4000), audiotest.Tone(8000, 40*time.Millisecond, 1000), make([]int16, 4000)),
			has:     []check{{[]float64{1000}, false}},
			absent:  map[float64]bool{1000: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.has {
				if got := audiotest.HasTones(tt.samples, tt.rate, c.freqs...); got != c.has {
					t.Errorf("HasTones(%v) = %v, want %v", c.freqs, got, c.has)
					for _, f := range c.freqs {
						t.Logf("  %v", audiotest.Detect(tt.samples, tt.rate, f, 0))
					}
				}
				if len(c.freqs) == 1 {
					if got := audiotest.HasTone(tt.samples, tt.rate, c.freqs[0]); got != c.has {
						t.Errorf("HasTone(%v) = %v, want %v", c.freqs[0], got, c.has)
					}
				}
			}
			for f, want := range tt.absent {
				if got := audiotest.Absent(tt.samples, tt.rate, f); got != want {
					t.Errorf("Absent(%v) = %v, want %v\n  %v", f, got, want, audiotest.Detect(tt.samples, tt.rate, f, 0))
				}
			}
		})
	}
}

func TestPower(t *testing.T) {
	tests := []struct {
		name string
		rate int
		freq float64
		amp  float64
		at   float64 // frequency measured
		want float64 // mean power, as a share of amp²/2
		tol  float64
	}{
		{"on frequency", 8000, 1000, 10000, 1000, 1, 0.01},
		{"on frequency at 48 kHz", 48000, 440, 3000, 440, 1, 0.01},
		{"off bin grid", 8000, 1234.5, 8000, 1234.5, 1, 0.01},
		{"other frequency", 8000, 1000, 10000, 1500, 0, 1e-4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sine(tt.rate, time.Second, tt.freq, tt.amp)
			full := tt.amp * tt.amp / 2
			got := audiotest.Power(s, tt.rate, tt.at) / full
			if math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Power = %.5f of A²/2, want %.5f ± %g", got, tt.want, tt.tol)
			}
			fs := make([]float64, len(s))
			for i, v := range s {
				fs[i] = float64(v)
			}
			if gotF := audiotest.Power(fs, tt.rate, tt.at) / full; math.Abs(gotF-got) > 1e-9 {
				t.Errorf("Power of float64 samples = %v, of int16 samples %v", gotF, got)
			}
		})
	}
}

func TestDetectFrames(t *testing.T) {
	s := concat(audiotest.Tone(8000, 100*time.Millisecond, 1000), make([]int16, 800+50))
	r := audiotest.Detect(s, 8000, 1000, 0)
	if r.Frame != audiotest.DefaultFrame {
		t.Errorf("Frame = %v, want %v", r.Frame, audiotest.DefaultFrame)
	}
	// 200 ms and a partial frame: 10 whole frames, 5 of tone, 5 silent.
	if len(r.Frames) != 10 {
		t.Fatalf("got %d frames, want 10", len(r.Frames))
	}
	if got := r.NonSilent(); got != 5 {
		t.Errorf("NonSilent = %d, want 5", got)
	}
	if got := r.ToneFrames(audiotest.ToneRatioDB); got != 5 {
		t.Errorf("ToneFrames = %d, want 5 (%v)", got, r)
	}
	if got, want := r.Frames[3].Start, 60*time.Millisecond; got != want {
		t.Errorf("Frames[3].Start = %v, want %v", got, want)
	}
	if lvl := r.Frames[0].LevelDBFS; math.Abs(lvl-(-9.03)) > 0.1 {
		t.Errorf("tone frame level = %.2f dBFS, want -9.03 (a -6 dBFS sine)", lvl)
	}
}
