package audiotest

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// The thresholds of the detectors. They are constants, not options, so every
// call test means the same thing by "has the tone" and "does not".
const (
	// DefaultFrame is the analysis frame of HasTone, HasTones and Absent:
	// 20 ms, one RTP packet of G.711, a 50 Hz frequency resolution.
	DefaultFrame = 20 * time.Millisecond

	// ToneRatioDB is how far (dB) a tone's energy must stand above the rest
	// of a frame's energy for the frame to carry that tone alone (HasTone).
	// G.711 quantization noise sits about 38 dB below the signal, so a tone
	// that crossed any number of G.711 hops passes.
	ToneRatioDB = 20

	// ToneFraction is the share of non-silent frames that must carry the
	// tone for HasTone and HasTones. The rest allows for the frames where the
	// tone starts and stops, jitter-buffer gaps and packet loss concealment.
	ToneFraction = 0.6

	// MinToneFrames is the least number of frames (60 ms) that must carry the
	// tone for HasTone and HasTones, so a click in silence is not a tone.
	MinToneFrames = 3

	// ToneShareDB is, for HasTones, the least share (dB, relative to the
	// frame energy) of each listed tone: every tone of the set is really
	// there, none drowned by the others. Two tones with a DTMF twist of up
	// to 8 dB pass.
	ToneShareDB = -10

	// AbsentLevelDB is the level (dB, relative to the frame energy) above
	// which a frame counts as carrying the tone for Absent. A tone 30 dB
	// below the talker is as loud as the crosstalk that a listener reports.
	AbsentLevelDB = -30

	// AbsentContrastDB is how far (dB) the tone's bin must also stand above
	// the median of its neighbouring bins (3 to 6 bins away on each side) for
	// a frame to count as carrying the tone for Absent. Broadband noise puts
	// about 3/N of its energy in any N-sample bin (-17 dB at 20 ms and
	// 8 kHz), so the level alone would find every tone in noise; a real tone
	// is a narrow peak. In white noise one frame in a thousand reaches 13.5 dB
	// of contrast, so 15 dB keeps noise absent.
	AbsentContrastDB = 15

	// SilenceDBFS is the RMS level (dB relative to full scale) under which a
	// frame is silent: G.711 idle patterns and dither decode below it.
	SilenceDBFS = -60
)

// searchSteps and searchStep make the tone measurement tolerate a tone that
// is a little off its nominal frequency (a peer's resampler, a rounded table
// frequency): the Goertzel power is taken at the nominal frequency and at
// offsets of up to a quarter of a bin (12.5 Hz at 20 ms) and the highest one
// counts. Without that, a 5 Hz error costs 1.3% of the energy, which would
// count as "rest" 19 dB below the tone.
const (
	searchSteps = 4
	searchStep  = 1.0 / 16 // of a bin
)

// nearBin and farBin bound the distances (in bins) of the bins that estimate
// the spectrum floor around a tone: outside the Hann main lobe (2 bins),
// close enough to see the same noise.
const (
	nearBin = 3
	farBin  = 6
)

// Power returns the mean power of the component of samples at freq (Hz), in
// the units of the mean square of the samples: a sine of amplitude A gives
// A²/2. It is the Goertzel algorithm over the whole slice with a Hann window,
// so energy at other frequencies more than two bins (2·rate/len Hz) away
// hardly leaks in.
func Power[S int16 | float64](samples []S, rate int, freq float64) float64 {
	if len(samples) == 0 || rate <= 0 {
		return 0
	}
	w := hann(len(samples))
	x := make([]float64, len(samples))
	for i, s := range samples {
		x[i] = float64(s) * w[i]
	}
	return goertzel(x, rate, freq) * 2 / square(sum(w))
}

// goertzel returns |X(freq)|² of the (already windowed) samples x.
func goertzel(x []float64, rate int, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s := v + c*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// hann returns the Hann window of n points (periodic form, as spectral
// analysis uses it).
func hann(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return w
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func square(v float64) float64 { return v * v }

// db converts a power ratio to decibels; zero and negative ratios map to
// -200 dB so the result always compares.
func db(ratio float64) float64 {
	if ratio <= 0 {
		return -200
	}
	return 10 * math.Log10(ratio)
}

// Frame is the measurement of one analysis frame.
type Frame struct {
	// Start is the offset of the frame from the start of the samples.
	Start time.Duration
	// LevelDBFS is the frame's RMS level relative to full scale.
	LevelDBFS float64
	// Silent reports LevelDBFS < SilenceDBFS; the other fields still hold
	// their values.
	Silent bool
	// RatioDB is the tone's energy over the rest of the frame's energy
	// (frame minus tone), capped at 60 dB.
	RatioDB float64
	// ToneDB is the tone's energy relative to the whole frame's energy
	// (0 dB: the frame is the tone).
	ToneDB float64
	// ContrastDB is the tone's bin over the median of its neighbouring bins.
	ContrastDB float64
}

// Result is the per-frame analysis of one frequency over a signal.
type Result struct {
	Freq   float64
	Rate   int
	Frame  time.Duration
	Frames []Frame
}

// NonSilent returns the number of frames that are not silent.
func (r Result) NonSilent() int {
	n := 0
	for _, f := range r.Frames {
		if !f.Silent {
			n++
		}
	}
	return n
}

// ToneFrames returns the number of non-silent frames whose RatioDB is at
// least minRatioDB.
func (r Result) ToneFrames(minRatioDB float64) int {
	n := 0
	for _, f := range r.Frames {
		if !f.Silent && f.RatioDB >= minRatioDB {
			n++
		}
	}
	return n
}

// PresentFrames returns the number of frames in which Absent finds the tone.
func (r Result) PresentFrames() int {
	n := 0
	for _, f := range r.Frames {
		if present(f) {
			n++
		}
	}
	return n
}

// String summarizes the result in one line for a test log.
func (r Result) String() string {
	ratios := make([]float64, 0, len(r.Frames))
	for _, f := range r.Frames {
		if !f.Silent {
			ratios = append(ratios, f.RatioDB)
		}
	}
	median := math.NaN()
	if len(ratios) > 0 {
		slices.Sort(ratios)
		median = ratios[len(ratios)/2]
	}
	return fmt.Sprintf("%g Hz at %d Hz in %v frames: %d frames, %d non-silent, %d with the tone %d dB above the rest (median %.1f dB), %d where Absent finds it",
		r.Freq, r.Rate, r.Frame, len(r.Frames), len(ratios), r.ToneFrames(ToneRatioDB), ToneRatioDB, median, r.PresentFrames())
}

// present reports whether Absent counts the frame as carrying the tone.
func present(f Frame) bool {
	return !f.Silent && f.ToneDB > AbsentLevelDB && f.ContrastDB >= AbsentContrastDB
}

// Detect measures freq in consecutive frames of the samples (frame <= 0 means
// DefaultFrame); a last partial frame is dropped.
func Detect(samples []int16, rate int, freq float64, frame time.Duration) Result {
	if frame <= 0 {
		frame = DefaultFrame
	}
	res := Result{Freq: freq, Rate: rate, Frame: frame}
	a := newAnalyzer(rate, frame)
	if a == nil {
		return res
	}
	for start := 0; start+a.n <= len(samples); start += a.n {
		ms := a.load(samples[start : start+a.n])
		t := a.tone(freq)
		f := Frame{
			Start:      time.Duration(int64(start) * int64(time.Second) / int64(rate)),
			LevelDBFS:  db(ms / square(32768)),
			ToneDB:     db(t / ms),
			RatioDB:    ratioDB(t, ms),
			ContrastDB: db(a.contrast(freq)),
		}
		f.Silent = f.LevelDBFS < SilenceDBFS
		res.Frames = append(res.Frames, f)
	}
	return res
}

// ratioDB is the tone's energy t over the rest of the frame energy ms,
// capped at 60 dB (the rest can be zero or, by estimation error, negative).
func ratioDB(t, ms float64) float64 {
	rest := max(ms-t, ms*1e-6)
	return db(t / rest)
}

// HasTone reports whether freq is in the samples, alone: at least ToneRatioDB
// above the rest of the energy in at least ToneFraction of the non-silent
// DefaultFrame frames, and in at least MinToneFrames frames. A signal that
// carries two tones has neither alone (use HasTones); silence has none.
func HasTone(samples []int16, rate int, freq float64) bool {
	return HasTones(samples, rate, freq)
}

// HasTones reports whether the samples are the given tones together and
// little else: their summed energy is at least ToneRatioDB above the rest and
// each one holds at least ToneShareDB of the frame's energy, in at least
// ToneFraction of the non-silent DefaultFrame frames and in at least
// MinToneFrames frames. Tones closer than three bins (150 Hz) are measured
// twice over each other's main lobe; keep the tones of one test further
// apart.
func HasTones(samples []int16, rate int, freqs ...float64) bool {
	a := newAnalyzer(rate, DefaultFrame)
	if a == nil || len(freqs) == 0 {
		return false
	}
	nonSilent, hits := 0, 0
	for start := 0; start+a.n <= len(samples); start += a.n {
		ms := a.load(samples[start : start+a.n])
		if db(ms/square(32768)) < SilenceDBFS {
			continue
		}
		nonSilent++
		var total float64
		shared := true
		for _, f := range freqs {
			t := a.tone(f)
			total += t
			if db(t/ms) < ToneShareDB {
				shared = false
			}
		}
		if shared && ratioDB(total, ms) >= ToneRatioDB {
			hits++
		}
	}
	return hits >= MinToneFrames && float64(hits) >= ToneFraction*float64(nonSilent)
}

// Absent reports whether freq is missing from the samples: no more than a
// few DefaultFrame frames (2, or 2% of the frames when that is more) carry
// it above AbsentLevelDB relative to the frame energy as a peak at least
// AbsentContrastDB above the neighbouring spectrum. Silence and broadband
// noise count as absent; a tone buried in noise louder than itself counts
// as absent too, since no listener would hear it.
func Absent(samples []int16, rate int, freq float64) bool {
	r := Detect(samples, rate, freq, DefaultFrame)
	return r.PresentFrames() <= max(2, len(r.Frames)/50)
}

// analyzer holds one frame's windowed samples and the buffers reused from
// frame to frame.
type analyzer struct {
	rate  int
	n     int       // samples per frame
	win   []float64 // Hann window
	norm  float64   // turns |X|² into the tone's mean power
	x     []float64 // windowed samples of the current frame
	floor []float64 // scratch for the neighbour bins
}

func newAnalyzer(rate int, frame time.Duration) *analyzer {
	n := samplesIn(rate, frame)
	if n < 8 {
		return nil
	}
	w := hann(n)
	return &analyzer{
		rate:  rate,
		n:     n,
		win:   w,
		norm:  2 / square(sum(w)),
		x:     make([]float64, n),
		floor: make([]float64, 0, 2*(farBin-nearBin+1)),
	}
}

// load windows one frame into the analyzer and returns its mean square.
func (a *analyzer) load(frame []int16) float64 {
	var e float64
	for i, s := range frame {
		v := float64(s)
		e += v * v
		a.x[i] = v * a.win[i]
	}
	return e / float64(len(frame))
}

// bin is the frequency resolution of a frame (Hz).
func (a *analyzer) bin() float64 { return float64(a.rate) / float64(a.n) }

// tone is the mean power of the loaded frame's component at freq, searched
// up to a quarter bin either side (see searchSteps).
func (a *analyzer) tone(freq float64) float64 {
	var best float64
	for i := -searchSteps; i <= searchSteps; i++ {
		best = max(best, a.power(freq+float64(i)*searchStep*a.bin()))
	}
	return best
}

func (a *analyzer) power(freq float64) float64 {
	return goertzel(a.x, a.rate, freq) * a.norm
}

// contrast is the tone's power at freq over the median power of the
// neighbouring bins inside (0, rate/2); with fewer than two neighbours it is
// +Inf.
func (a *analyzer) contrast(freq float64) float64 {
	a.floor = a.floor[:0]
	nyquist := float64(a.rate) / 2
	for k := nearBin; k <= farBin; k++ {
		if f := freq - float64(k)*a.bin(); f > 0 {
			a.floor = append(a.floor, a.power(f))
		}
		if f := freq + float64(k)*a.bin(); f < nyquist {
			a.floor = append(a.floor, a.power(f))
		}
	}
	if len(a.floor) < 2 {
		return math.Inf(1)
	}
	slices.Sort(a.floor)
	m := a.floor[len(a.floor)/2]
	p := a.tone(freq)
	if m <= 0 {
		if p <= 0 {
			return 0
		}
		return math.Inf(1)
	}
	return p / m
}
