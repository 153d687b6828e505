package player

import (
	"math"
	"time"

	"github.com/ccbox/ccbox/media/codec"
)

// FrameSamples is one frame: 20 ms at 8 kHz, the ptime every phone takes.
const FrameSamples = codec.ClockRate / 50

// FrameDuration is how long one frame plays.
const FrameDuration = 20 * time.Millisecond

// Sound is 8 kHz audio pre-encoded in both G.711 laws, cut into frames. It
// is immutable and may be played by many playbacks at once.
type Sound struct {
	name    string
	samples int
	ulaw    []byte // whole frames, the last padded with silence
	alaw    []byte
}

// NewSound encodes pcm (8 kHz linear samples) in both laws.
func NewSound(name string, pcm []int16) *Sound {
	frames := (len(pcm) + FrameSamples - 1) / FrameSamples
	s := &Sound{
		name:    name,
		samples: len(pcm),
		ulaw:    make([]byte, 0, frames*FrameSamples),
		alaw:    make([]byte, 0, frames*FrameSamples),
	}
	s.ulaw = codec.EncodeG711(codec.PCMU, pcm, s.ulaw)
	s.alaw = codec.EncodeG711(codec.PCMA, pcm, s.alaw)
	for len(s.ulaw) < cap(s.ulaw) {
		s.ulaw = append(s.ulaw, codec.EncodeUlaw(0))
		s.alaw = append(s.alaw, codec.EncodeAlaw(0))
	}
	return s
}

// Name is the name the sound was made with (for logs).
func (s *Sound) Name() string { return s.name }

// Duration is the sound's length before padding.
func (s *Sound) Duration() time.Duration {
	return time.Duration(s.samples) * time.Second / codec.ClockRate
}

// Frames is the number of 20 ms frames.
func (s *Sound) Frames() int { return len(s.ulaw) / FrameSamples }

// Frame returns the i-th 20 ms frame (FrameSamples bytes) in c, Unknown
// meaning PCMU; nil when i is out of range. The bytes are shared: callers
// must not change them.
func (s *Sound) Frame(c codec.Codec, i int) []byte {
	if i < 0 || i >= s.Frames() {
		return nil
	}
	b := s.ulaw
	if c == codec.PCMA {
		b = s.alaw
	}
	return b[i*FrameSamples : (i+1)*FrameSamples : (i+1)*FrameSamples]
}

// tone is one segment of synthesized audio: a sine at freq Hz (0 for
// silence) of amplitude amp (fraction of full scale) lasting d.
type tone struct {
	freq float64
	amp  float64
	d    time.Duration
}

// synth renders segments back to back. Every tone fades in over attack
// and out over release (raised cosine), so no segment boundary clicks and
// the result loops cleanly.
func synth(segments []tone, attack, release time.Duration) []int16 {
	var out []int16
	a, r := samplesOf(attack), samplesOf(release)
	for _, seg := range segments {
		n := samplesOf(seg.d)
		start := len(out)
		out = append(out, make([]int16, n)...)
		if seg.freq == 0 {
			continue
		}
		w := 2 * math.Pi * seg.freq / codec.ClockRate
		for i := range n {
			v := seg.amp * math.MaxInt16 * math.Sin(w*float64(i))
			switch {
			case i < a:
				v *= 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(a))
			case n-1-i < r:
				v *= 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(r))
			}
			out[start+i] = int16(math.Round(v))
		}
	}
	return out
}

func samplesOf(d time.Duration) int { return int(int64(d) * codec.ClockRate / int64(time.Second)) }
