package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ccbox/ccbox/media/codec"
)

const allDigits = "0123456789*#ABCD"

// silence returns d of zero samples.
func silence(d time.Duration) []int16 { return make([]int16, int(d*ClockRate/time.Second)) }

// keyed returns the audio of digits pressed for on with off between, after
// a lead-in of lead samples (so the tones do not line up with windows).
func keyed(t *testing.T, digits string, on, off time.Duration, lead int) []int16 {
	t.Helper()
	out := make([]int16, lead)
	for _, d := range digits {
		tone, err := Tone(d, on)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tone...)
		out = append(out, silence(off)...)
	}
	return out
}

// g711 passes pcm through an encode and a decode in c (Unknown: untouched).
func g711(c codec.Codec, pcm []int16) []int16 {
	if c == codec.Unknown {
		return pcm
	}
	return codec.DecodeG711(c, codec.EncodeG711(c, pcm, nil), nil)
}

// detect feeds pcm to a fresh Detector in chunks of chunk samples.
func detect(pcm []int16, chunk int) string {
	var d Detector
	var got string
	for len(pcm) > 0 {
		n := min(chunk, len(pcm))
		for _, e := range d.Feed(pcm[:n]) {
			got += string(e.Digit)
		}
		pcm = pcm[n:]
	}
	return got
}

// TestDetectorDigits: every digit's tone is detected once, linear and
// through µ-law and A-law, whatever the alignment and chunk size.
func TestDetectorDigits(t *testing.T) {
	for _, c := range []codec.Codec{codec.Unknown, codec.PCMU, codec.PCMA} {
		for _, lead := range []int{0, 37, 80, 121} {
			for _, chunk := range []int{160, 1, 37, 1000} {
				pcm := g711(c, keyed(t, allDigits, 100*time.Millisecond, 100*time.Millisecond, lead))
				if got := detect(pcm, chunk); got != allDigits {
					t.Errorf("%v lead %d chunk %d: got %q, want %q", c, lead, chunk, got, allDigits)
				}
			}
		}
	}
}

func TestDetectorTiming(t *testing.T) {
	tests := []struct {
		name    string
		digits  string
		on, off time.Duration
		want    string
	}{
		{"40 ms tones, 40 ms pauses", "1212", 40 * time.Millisecond, 40 * time.Millisecond, "1212"},
		{"same key twice, 40 ms pause", "55", 60 * time.Millisecond, 40 * time.Millisecond, "55"},
		{"same key held long", "9", 2 * time.Second, 0, "9"},
		{"20 ms blips are ignored", "1234", 20 * time.Millisecond, 100 * time.Millisecond, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for lead := 0; lead < 160; lead += 10 {
				pcm := g711(codec.PCMU, keyed(t, tc.digits, tc.on, tc.off, lead))
				if got := detect(pcm, 160); got != tc.want {
					t.Fatalf("lead %d: got %q, want %q", lead, got, tc.want)
				}
			}
		})
	}

	// A dropout of one 10 ms inside a held key is the same press.
	tone, _ := Tone('7', 100*time.Millisecond)
	pcm := append(append(append([]int16{}, tone...), silence(10*time.Millisecond)...), tone...)
	if got := detect(pcm, 160); got != "7" {
		t.Errorf("10 ms dropout: got %q, want %q", got, "7")
	}

	// A different key straight after another, without a pause, is a new press.
	a, _ := Tone('1', 100*time.Millisecond)
	b, _ := Tone('2', 100*time.Millisecond)
	if got := detect(append(a, b...), 160); got != "12" {
		t.Errorf("no pause between keys: got %q, want %q", got, "12")
	}
}

// TestDetectorEventDuration: a press is reported with the 40 ms it lasted
// when it became certain.
func TestDetectorEventDuration(t *testing.T) {
	tone, _ := Tone('3', 200*time.Millisecond)
	var d Detector
	evs := d.Feed(tone)
	if len(evs) != 1 || evs[0].Digit != '3' || evs[0].Duration != 40*time.Millisecond {
		t.Fatalf("events %+v", evs)
	}
}

// sines returns d of a sum of sines (frequency, amplitude) with soft edges.
func sines(d time.Duration, parts ...[2]float64) []int16 {
	n := int(d * ClockRate / time.Second)
	out := make([]int16, n)
	for i := range out {
		var v float64
		for _, p := range parts {
			v += p[1] * math.Sin(2*math.Pi*p[0]*float64(i)/ClockRate)
		}
		if edge := min(i, n-1-i); edge < 80 {
			v *= float64(edge) / 80
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// vowel synthesizes a voiced sound: harmonics of a gliding pitch shaped by
// formant resonances (Peterson and Barney's averages).
func vowel(d time.Duration, f0from, f0to float64, formants ...float64) []int16 {
	n := int(d * ClockRate / time.Second)
	out := make([]int16, n)
	var phase float64
	for i := range out {
		f0 := f0from + (f0to-f0from)*float64(i)/float64(n)
		phase += 2 * math.Pi * f0 / ClockRate
		var v float64
		for k := 1; float64(k)*f0 < 3800; k++ {
			f := float64(k) * f0
			var gain float64
			for j, fm := range formants {
				bw := 80.0 + 40*float64(j)
				gain += 1 / (1 + ((f-fm)/bw)*((f-fm)/bw)) / float64(j+1)
			}
			v += gain * math.Sin(float64(k)*phase)
		}
		out[i] = int16(max(-32768, min(32767, 4000*v)))
	}
	return out
}

// TestDetectorRejects: what is not a key press produces no digit.
func TestDetectorRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, 5*ClockRate)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	var melody []int16
	// A tune over notes from 262 to 1047 Hz, including those close to DTMF
	// frequencies (698, 784, 880, 1047 Hz), one at a time, and a chord.
	for _, f := range []float64{262, 330, 392, 440, 523, 587, 659, 698, 784, 880, 988, 1047, 1175, 1319, 1397, 1568} {
		melody = append(melody, sines(250*time.Millisecond, [2]float64{f, 8000})...)
	}
	melody = append(melody, sines(500*time.Millisecond, [2]float64{262, 5000}, [2]float64{330, 5000}, [2]float64{392, 5000})...)
	var speech []int16
	for _, v := range [][]float64{
		{730, 1090, 2440}, {270, 2290, 3010}, {300, 870, 2240}, {530, 1840, 2480}, {570, 840, 2410}, {660, 1720, 2410}, {440, 1020, 2240},
	} {
		for _, glide := range [][2]float64{{100, 140}, {180, 240}, {230, 200}} {
			speech = append(speech, vowel(300*time.Millisecond, glide[0], glide[1], v...)...)
		}
	}
	weak, _ := Tone('5', 200*time.Millisecond)
	for i := range weak {
		weak[i] /= 200 // about -52 dBFS per tone: below the floor
	}
	tests := []struct {
		name string
		pcm  []int16
	}{
		{"silence", silence(time.Second)},
		{"white noise", noise},
		{"440 Hz", sines(3*time.Second, [2]float64{440, 10000})},
		{"1000 Hz", sines(3*time.Second, [2]float64{1000, 10000})},
		{"1209 Hz alone", sines(time.Second, [2]float64{1209, 10000})},
		{"697 Hz alone", sines(time.Second, [2]float64{697, 10000})},
		{"twist 12 dB", sines(time.Second, [2]float64{770, 10000}, [2]float64{1336, 10000 / 4})},
		{"off by 60 Hz", sines(time.Second, [2]float64{770 + 60, 8000}, [2]float64{1336 + 60, 8000})},
		{"three tones", sines(time.Second, [2]float64{770, 8000}, [2]float64{1336, 8000}, [2]float64{1000, 8000})},
		{"melody", melody},
		{"speech-like vowels", speech},
		{"too weak", weak},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []codec.Codec{codec.Unknown, codec.PCMA} {
				if got := detect(g711(c, tc.pcm), 160); got != "" {
					t.Errorf("%v: detected %q", c, got)
				}
			}
		})
	}

	// The twist allowed (6 dB) is accepted.
	if got := detect(sines(time.Second, [2]float64{770, 10000}, [2]float64{1336, 10000 / 2}), 160); got != "5" {
		t.Errorf("6 dB twist: got %q, want 5", got)
	}
}

// TestDetectorFeedAllocates: no events, no allocation (it runs on every
// packet of a leg set to in-band DTMF).
func TestDetectorFeedAllocates(t *testing.T) {
	var d Detector
	frame := sines(20*time.Millisecond, [2]float64{440, 8000})
	if n := testing.AllocsPerRun(100, func() { d.Feed(frame) }); n != 0 {
		t.Errorf("Feed allocates %v times per frame", n)
	}
}
