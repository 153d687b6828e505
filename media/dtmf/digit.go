package dtmf

import (
	"errors"
	"time"
)

// ErrBadDigit is returned for a rune that is not a DTMF digit
// ('0'-'9', '*', '#', 'A'-'D').
var ErrBadDigit = errors.New("not a DTMF digit")

// ErrBadDuration is returned for a tone or event duration that is not
// positive, or too long for one RFC 4733 event (65535 timestamp units).
var ErrBadDuration = errors.New("invalid DTMF duration")

// digits holds the digits in RFC 4733 event-code order (section 3.2).
const digits = "0123456789*#ABCD"

// ClockRate is the telephone-event and audio clock rate this package
// assumes, in Hz: the one of G.711, the only codecs the appliance speaks.
const ClockRate = 8000

// Code returns the RFC 4733 event code of a digit. Lower-case 'a'-'d' are
// accepted as 'A'-'D'.
func Code(digit rune) (uint8, bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i, d := range digits {
		if d == digit {
			return uint8(i), true
		}
	}
	return 0, false
}

// Digit returns the digit of an RFC 4733 event code (0-15).
func Digit(code uint8) (rune, bool) {
	if int(code) >= len(digits) {
		return 0, false
	}
	return rune(digits[code]), true
}

// Event is one key press.
type Event struct {
	Digit    rune
	Duration time.Duration // how long the key was held, as far as is known when it is reported
}

// samplesToDuration converts a count of 8 kHz samples (timestamp units).
func samplesToDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / ClockRate
}
