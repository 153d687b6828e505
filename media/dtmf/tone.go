package dtmf

import (
	"math"
	"time"
)

// The DTMF frequencies (ITU-T Q.23), in Hz: a digit is one of each group.
var (
	lowFreqs  = [4]float64{697, 770, 852, 941}
	highFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// keypad lays the digits out as on the keypad: row (low frequency) by
// column (high frequency).
var keypad = [4][4]rune{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// Frequencies returns a digit's low and high frequency in Hz.
func Frequencies(digit rune) (low, high float64, ok bool) {
	if _, valid := Code(digit); !valid {
		return 0, 0, false
	}
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r, row := range keypad {
		for c, d := range row {
			if d == digit {
				return lowFreqs[r], highFreqs[c], true
			}
		}
	}
	return 0, 0, false
}

const (
	// toneAmplitude is each of the two sines' peak, about -7 dBm0 for
	// G.711 (0.3 of full scale): the pair peaks at 0.6, clear of clipping.
	toneAmplitude = 0.3 * math.MaxInt16
	// toneRamp is the raised-cosine fade at each end, in samples (2 ms),
	// so the tone starts and stops without a click.
	toneRamp = 16
)

// Tone returns d of a digit's dual tone as 8 kHz linear PCM, with nothing
// before or after it (the caller adds the pauses between digits).
func Tone(digit rune, d time.Duration) ([]int16, error) {
	low, high, ok := Frequencies(digit)
	if !ok {
		return nil, ErrBadDigit
	}
	n := int(int64(d) * ClockRate / int64(time.Second))
	if n <= 0 {
		return nil, ErrBadDuration
	}
	out := make([]int16, n)
	wl, wh := 2*math.Pi*low/ClockRate, 2*math.Pi*high/ClockRate
	for i := range out {
		v := toneAmplitude * (math.Sin(wl*float64(i)) + math.Sin(wh*float64(i)))
		if edge := min(i, n-1-i); edge < toneRamp {
			v *= 0.5 - 0.5*math.Cos(math.Pi*float64(edge)/toneRamp)
		}
		out[i] = int16(math.Round(v))
	}
	return out, nil
}
