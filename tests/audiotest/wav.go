package audiotest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"time"
)

// ErrNotWAV is returned by ReadWAV when the file is not a RIFF/WAVE file or
// its chunks are cut short.
var ErrNotWAV = errors.New("audiotest: not a WAV file")

// ErrUnsupportedFormat is returned by ReadWAV for a WAV file whose encoding
// it cannot decode (it reads 16-bit PCM, 8-bit G.711 µ-law and A-law) or, from
// ReadWAV, whose channel count is not one.
var ErrUnsupportedFormat = errors.New("audiotest: unsupported WAV format")

// WAV format codes, from the fmt chunk (RFC 2361).
const (
	formatPCM        = 1
	formatALaw       = 6
	formatMuLaw      = 7
	formatExtensible = 0xFFFE
)

// toneAmplitude is the peak amplitude of a tone written by Tone: -6 dBFS, so
// a sum of sines never clips and a codec or mixer on the path has headroom.
const toneAmplitude = 0.5 * math.MaxInt16

// Tone returns dur of a sum of sines at the given frequencies, sampled at
// rate. The peak of the sum is at most -6 dBFS: each sine gets an equal share
// of that amplitude. With no frequency it returns silence.
func Tone(rate int, dur time.Duration, freqs ...float64) []int16 {
	n := samplesIn(rate, dur)
	out := make([]int16, n)
	if len(freqs) == 0 {
		return out
	}
	amp := toneAmplitude / float64(len(freqs))
	for i := range out {
		var v float64
		for _, f := range freqs {
			v += amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
		}
		out[i] = int16(math.Round(v))
	}
	return out
}

// samplesIn is the number of samples dur holds at rate, rounded down.
func samplesIn(rate int, dur time.Duration) int {
	if rate <= 0 || dur <= 0 {
		return 0
	}
	return int(int64(rate) * int64(dur) / int64(time.Second))
}

// WriteToneWAV writes a 16-bit mono PCM WAV file of dur at rate holding the
// sum of sines at freqs (see Tone). Peers that stop a call when their source
// file ends (baresip's aufile) need a file longer than the call.
func WriteToneWAV(path string, rate int, dur time.Duration, freqs ...float64) error {
	return WriteWAV(path, rate, Tone(rate, dur, freqs...))
}

// WriteSilenceWAV writes a 16-bit mono PCM WAV file of dur of digital silence.
func WriteSilenceWAV(path string, rate int, dur time.Duration) error {
	return WriteWAV(path, rate, make([]int16, samplesIn(rate, dur)))
}

// WriteWAV writes samples as a 16-bit mono PCM WAV file.
func WriteWAV(path string, rate int, samples []int16) error {
	if rate <= 0 {
		return fmt.Errorf("write %s: sample rate %d: %w", path, rate, ErrUnsupportedFormat)
	}
	dataLen := 2 * len(samples)
	var b bytes.Buffer
	b.Grow(44 + dataLen)
	b.WriteString("RIFF")
	le32(&b, uint32(36+dataLen))
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	le32(&b, 16)
	le16(&b, formatPCM)
	le16(&b, 1) // channels
	le32(&b, uint32(rate))
	le32(&b, uint32(rate*2)) // byte rate
	le16(&b, 2)              // block align
	le16(&b, 16)             // bits per sample
	b.WriteString("data")
	le32(&b, uint32(dataLen))
	for _, s := range samples {
		le16(&b, uint16(s))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}

func le16(b *bytes.Buffer, v uint16) { b.Write(binary.LittleEndian.AppendUint16(nil, v)) }
func le32(b *bytes.Buffer, v uint32) { b.Write(binary.LittleEndian.AppendUint32(nil, v)) }

// ReadWAV reads a mono WAV file and returns its samples and sample rate. It
// decodes 16-bit PCM and 8-bit G.711 (µ-law, A-law), skips chunks it does not
// need (LIST, fact, …), and accepts a data chunk whose declared size runs past
// the end of the file, as a recorder that was stopped before it could
// finalize the header leaves it.
func ReadWAV(path string) (samples []int16, rate int, err error) {
	chans, rate, err := ReadWAVChannels(path)
	if err != nil {
		return nil, 0, err
	}
	if len(chans) != 1 {
		return nil, 0, fmt.Errorf("read %s: %d channels, want 1: %w", path, len(chans), ErrUnsupportedFormat)
	}
	return chans[0], rate, nil
}

// ReadWAVChannels is ReadWAV for files with any number of channels, such as
// a two-channel call recording: it returns one slice of samples per channel.
func ReadWAVChannels(path string) (channels [][]int16, rate int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read wav: %w", err)
	}
	chans, rate, err := parseWAV(data)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	return chans, rate, nil
}

// wavFormat is the part of the fmt chunk that decoding needs.
type wavFormat struct {
	code     uint16
	channels int
	rate     int
	bits     int
}

func parseWAV(data []byte) ([][]int16, int, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, ErrNotWAV
	}
	var (
		format  *wavFormat
		payload []byte
	)
	rest := data[12:]
	for len(rest) >= 8 && payload == nil {
		id := string(rest[0:4])
		size := int(binary.LittleEndian.Uint32(rest[4:8]))
		body := rest[8:]
		if size > len(body) || size < 0 {
			if id != "data" {
				return nil, 0, fmt.Errorf("chunk %q cut short: %w", id, ErrNotWAV)
			}
			size = len(body) // an unfinished recording: take what is there
		}
		switch id {
		case "fmt ":
			f, err := parseFormat(body[:size])
			if err != nil {
				return nil, 0, err
			}
			format = &f
		case "data":
			payload = body[:size]
		}
		// Chunks are padded to an even size (RIFF).
		next := size + size%2
		if next > len(body) {
			next = len(body)
		}
		rest = body[next:]
	}
	if format == nil {
		return nil, 0, fmt.Errorf("no fmt chunk: %w", ErrNotWAV)
	}
	if payload == nil {
		return nil, 0, fmt.Errorf("no data chunk: %w", ErrNotWAV)
	}
	return decode(*format, payload)
}

func parseFormat(b []byte) (wavFormat, error) {
	if len(b) < 16 {
		return wavFormat{}, fmt.Errorf("fmt chunk of %d bytes: %w", len(b), ErrNotWAV)
	}
	f := wavFormat{
		code:     binary.LittleEndian.Uint16(b[0:2]),
		channels: int(binary.LittleEndian.Uint16(b[2:4])),
		rate:     int(binary.LittleEndian.Uint32(b[4:8])),
		bits:     int(binary.LittleEndian.Uint16(b[14:16])),
	}
	// WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two
	// bytes of its sub-format GUID.
	if f.code == formatExtensible && len(b) >= 26 {
		f.code = binary.LittleEndian.Uint16(b[24:26])
	}
	if f.channels < 1 || f.rate <= 0 {
		return wavFormat{}, fmt.Errorf("%d channels at %d Hz: %w", f.channels, f.rate, ErrUnsupportedFormat)
	}
	return f, nil
}

func decode(f wavFormat, payload []byte) ([][]int16, int, error) {
	var (
		width  int
		sample func([]byte) int16
	)
	switch {
	case f.code == formatPCM && f.bits == 16:
		width = 2
		sample = func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) }
	case f.code == formatMuLaw && f.bits == 8:
		width = 1
		sample = func(b []byte) int16 { return ulawDecode(b[0]) }
	case f.code == formatALaw && f.bits == 8:
		width = 1
		sample = func(b []byte) int16 { return alawDecode(b[0]) }
	default:
		return nil, 0, fmt.Errorf("format %d with %d bits per sample: %w", f.code, f.bits, ErrUnsupportedFormat)
	}
	frame := width * f.channels
	n := len(payload) / frame
	chans := make([][]int16, f.channels)
	for c := range chans {
		chans[c] = make([]int16, n)
	}
	for i := range n {
		for c := range chans {
			off := i*frame + c*width
			chans[c][i] = sample(payload[off : off+width])
		}
	}
	return chans, f.rate, nil
}
