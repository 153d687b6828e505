package audiotest_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ccbox/ccbox/tests/audiotest"
)

// wavFile builds a WAV file from its format fields and a list of chunks
// placed after the fmt chunk; dataSize < 0 writes the true size of data.
type wavFile struct {
	format, channels uint16
	rate             uint32
	bits             uint16
	before           []chunk // chunks between fmt and data
	data             []byte
	dataSize         int64
}

type chunk struct {
	id   string
	body []byte
}

func (w wavFile) bytes() []byte {
	le16 := binary.LittleEndian.AppendUint16
	le32 := binary.LittleEndian.AppendUint32
	var fmtBody []byte
	fmtBody = le16(fmtBody, w.format)
	fmtBody = le16(fmtBody, w.channels)
	fmtBody = le32(fmtBody, w.rate)
	block := uint32(w.channels) * uint32(w.bits/8)
	fmtBody = le32(fmtBody, w.rate*block)
	fmtBody = le16(fmtBody, uint16(block))
	fmtBody = le16(fmtBody, w.bits)

	var body []byte
	body = append(body, "WAVE"...)
	add := func(id string, b []byte, size uint32) {
		body = append(body, id...)
		body = le32(body, size)
		body = append(body, b...)
		if len(b)%2 == 1 {
			body = append(body, 0)
		}
	}
	add("fmt ", fmtBody, uint32(len(fmtBody)))
	for _, c := range w.before {
		add(c.id, c.body, uint32(len(c.body)))
	}
	size := uint32(len(w.data))
	if w.dataSize >= 0 {
		size = uint32(w.dataSize)
	}
	body = append(body, "data"...)
	body = le32(body, size)
	body = append(body, w.data...)

	out := append([]byte("RIFF"), le32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func pcm(samples ...int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func TestReadWAV(t *testing.T) {
	tests := []struct {
		name     string
		file     []byte
		want     [][]int16
		wantRate int
		wantErr  error
	}{
		{
			name:     "pcm16 mono",
			file:     wavFile{format: 1, channels: 1, rate: 8000, bits: 16, data: pcm(1, -2, 32767, -32768), dataSize: -1}.bytes(),
			want:     [][]int16{{1, -2, 32767, -32768}},
			wantRate: 8000,
		},
		{
			name: "LIST and odd-sized chunks before data",
			file: wavFile{format: 1, channels: 1, rate: 48000, bits: 16,
				before:   []chunk{{"LIST", []byte("INFOISFT\x05\x00\x00\x00sox\x00\x00")}, {"odd ", []byte{1, 2, 3}}},
				data:     pcm(7, 8, 9),
				dataSize: -1}.bytes(),
			want:     [][]int16{{7, 8, 9}},
			wantRate: 48000,
		},
		{
			name:     "unfinished recording: data size past the end",
			file:     wavFile{format: 1, channels: 1, rate: 8000, bits: 16, data: pcm(5, 6), dataSize: 0xFFFFFFFF}.bytes(),
			want:     [][]int16{{5, 6}},
			wantRate: 8000,
		},
		{
			name:     "two channels",
			file:     wavFile{format: 1, channels: 2, rate: 8000, bits: 16, data: pcm(1, 2, 3, 4, 5, 6), dataSize: -1}.bytes(),
			want:     [][]int16{{1, 3, 5}, {2, 4, 6}},
			wantRate: 8000,
		},
		{
			name:     "mu-law",
			file:     wavFile{format: 7, channels: 1, rate: 8000, bits: 8, data: []byte{0xFF, 0x00, 0x80, 0x7F}, dataSize: -1}.bytes(),
			want:     [][]int16{{0, -32124, 32124, 0}},
			wantRate: 8000,
		},
		{
			name:     "A-law",
			file:     wavFile{format: 6, channels: 1, rate: 8000, bits: 8, data: []byte{0xD5, 0x55, 0xAA, 0x2A}, dataSize: -1}.bytes(),
			want:     [][]int16{{8, -8, 32256, -32256}},
			wantRate: 8000,
		},
		{
			name:    "24-bit PCM",
			file:    wavFile{format: 1, channels: 1, rate: 8000, bits: 24, data: []byte{1, 2, 3}, dataSize: -1}.bytes(),
			wantErr: audiotest.ErrUnsupportedFormat,
		},
		{
			name:    "float",
			file:    wavFile{format: 3, channels: 1, rate: 8000, bits: 32, data: make([]byte, 8), dataSize: -1}.bytes(),
			wantErr: audiotest.ErrUnsupportedFormat,
		},
		{
			name:    "not RIFF",
			file:    []byte("ID3\x04 this is an mp3"),
			wantErr: audiotest.ErrNotWAV,
		},
		{
			name:    "empty",
			file:    nil,
			wantErr: audiotest.ErrNotWAV,
		},
		{
			name:    "no fmt chunk",
			file:    []byte("RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00"),
			wantErr: audiotest.ErrNotWAV,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.wav")
			if err := os.WriteFile(path, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			got, rate, err := audiotest.ReadWAVChannels(path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadWAVChannels error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if rate != tt.wantRate {
				t.Errorf("rate = %d, want %d", rate, tt.wantRate)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("samples = %v, want %v", got, tt.want)
			}
			mono, _, err := audiotest.ReadWAV(path)
			switch {
			case len(tt.want) != 1 && !errors.Is(err, audiotest.ErrUnsupportedFormat):
				t.Errorf("ReadWAV of %d channels: error = %v, want ErrUnsupportedFormat", len(tt.want), err)
			case len(tt.want) == 1 && (err != nil || !slices.Equal(mono, tt.want[0])):
				t.Errorf("ReadWAV = %v, %v; want %v", mono, err, tt.want[0])
			}
		})
	}
}

func TestWriteWAVRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		rate  int
		dur   time.Duration
		freqs []float64
	}{
		{"tone 8 kHz", 8000, 500 * time.Millisecond, []float64{1000}},
		{"two tones 48 kHz", 48000, 250 * time.Millisecond, []float64{697, 1209}},
		{"silence 16 kHz", 16000, 100 * time.Millisecond, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tone.wav")
			var err error
			if tt.freqs == nil {
				err = audiotest.WriteSilenceWAV(path, tt.rate, tt.dur)
			} else {
				err = audiotest.WriteToneWAV(path, tt.rate, tt.dur, tt.freqs...)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, rate, err := audiotest.ReadWAV(path)
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate {
				t.Errorf("rate = %d, want %d", rate, tt.rate)
			}
			want := audiotest.Tone(tt.rate, tt.dur, tt.freqs...)
			if !slices.Equal(got, want) {
				t.Fatalf("read %d samples, not the %d written", len(got), len(want))
			}
			if wantN := int(tt.dur.Seconds() * float64(tt.rate)); len(got) != wantN {
				t.Errorf("got %d samples, want %d", len(got), wantN)
			}
			// -6 dBFS peak: the sum of sines never exceeds half of full scale.
			for _, s := range got {
				if s > 16384 || s < -16384 {
					t.Fatalf("sample %d is above -6 dBFS", s)
				}
			}
			if tt.freqs != nil && !audiotest.HasTones(got, rate, tt.freqs...) {
				t.Errorf("written tone %v not detected", tt.freqs)
			}
		})
	}
}
