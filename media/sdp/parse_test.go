package sdp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ccbox/ccbox/media/codec"
)

func readSDP(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pts(fs []Format) []uint8 {
	out := make([]uint8, len(fs))
	for i, f := range fs {
		out[i] = f.PayloadType
	}
	return out
}

func TestParseReal(t *testing.T) {
	tests := []struct {
		file      string
		addr      string // where audio goes
		pts       []uint8
		codec     codec.Codec
		te        uint8 // 0: none
		teFmtp    string
		ptime     int
		dir       Direction
		hold      bool
		mediaSeen int
	}{
		{"baresip.sdp", "127.0.0.2:10030", []uint8{0, 8, 101}, codec.PCMU, 101, "0-15", 20, SendRecv, false, 1},
		{"sipp-uac.sdp", "127.0.0.3:6000", []uint8{0}, codec.PCMU, 0, "", 0, SendRecv, false, 1},
		{"sipp-uac-pcap.sdp", "127.0.0.4:6002", []uint8{8, 101}, codec.PCMA, 101, "0-11,16", 0, SendRecv, false, 1},
		{"sipp-uas.sdp", "127.0.0.5:6004", []uint8{0}, codec.PCMU, 0, "", 0, SendRecv, false, 1},
		{"chromium.sdp", "0.0.0.0:9", []uint8{111, 63, 9, 0, 8, 13, 110, 126}, codec.PCMU, 126, "", 0, SendRecv, true, 1},
		{"hold-rfc2543.sdp", "0.0.0.0:10040", []uint8{8, 0}, codec.PCMA, 0, "", 0, SendRecv, true, 1},
		{"video-ipv6-sendonly.sdp", "127.0.0.7:49170", []uint8{97, 8, 0}, codec.PCMA, 0, "", 30, SendOnly, true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s, err := Parse(readSDP(t, tc.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(s.Media) != tc.mediaSeen {
				t.Fatalf("%d media, want %d", len(s.Media), tc.mediaSeen)
			}
			i := s.Audio()
			if i < 0 {
				t.Fatal("no audio")
			}
			if got := s.Addr(i); got != netip.MustParseAddrPort(tc.addr) {
				t.Errorf("Addr = %v, want %v", got, tc.addr)
			}
			m := &s.Media[i]
			if got := pts(m.Formats); !slices.Equal(got, tc.pts) {
				t.Errorf("payload types = %v, want %v", got, tc.pts)
			}
			if c, _ := m.Codec(); c != tc.codec {
				t.Errorf("Codec = %v, want %v", c, tc.codec)
			}
			te, ok := m.TelephoneEvent()
			if ok != (tc.te != 0) || te != tc.te {
				t.Errorf("TelephoneEvent = %d, %v, want %d", te, ok, tc.te)
			}
			if ok {
				f, _ := m.Format(te)
				if f.Fmtp != tc.teFmtp {
					t.Errorf("telephone-event fmtp = %q, want %q", f.Fmtp, tc.teFmtp)
				}
			}
			if m.Ptime != tc.ptime {
				t.Errorf("Ptime = %d, want %d", m.Ptime, tc.ptime)
			}
			if d := s.Dir(i); d != tc.dir {
				t.Errorf("Dir = %v, want %v", d, tc.dir)
			}
			if h := s.OnHold(i); h != tc.hold {
				t.Errorf("OnHold = %v, want %v", h, tc.hold)
			}
		})
	}
}

func TestParseDetails(t *testing.T) {
	s, err := Parse(readSDP(t, "video-ipv6-sendonly.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin.Username != "alice" || s.Origin.SessionID != 2890844526 || s.Origin.Version != 2890844527 ||
		s.Origin.Addr != netip.MustParseAddr("::1") {
		t.Errorf("Origin = %+v", s.Origin)
	}
	if s.Media[1].RTCPPort != 53020 {
		t.Errorf("RTCPPort = %d", s.Media[1].RTCPPort)
	}
	if f, _ := s.Media[1].Format(97); f.Name != "iLBC" || f.ClockRate != 8000 {
		t.Errorf("format 97 = %+v", f)
	}
	if f, _ := s.Media[1].Format(0); f.Name != "PCMU" || f.ClockRate != 8000 {
		t.Errorf("static format 0 = %+v", f)
	}
	if s.Addr(0) != netip.MustParseAddrPort("[::1]:51372") {
		t.Errorf("video Addr = %v", s.Addr(0))
	}
	c, err := Parse(readSDP(t, "chromium.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := c.Media[0].Format(111); f.Name != "opus" || f.ClockRate != 48000 || f.Channels != 2 || f.Codec() != codec.Unknown {
		t.Errorf("opus = %+v", f)
	}
	if f, _ := c.Media[0].Format(110); f.IsTelephoneEvent() {
		t.Errorf("48 kHz telephone-event taken for 8 kHz DTMF")
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"binary", "\x00\x01\x02", ErrMalformed},
		{"no version", "o=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n", ErrMalformed},
		{"version 1", "v=1\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n", ErrMalformed},
		{"no origin", "v=0\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n", ErrMalformed},
		{"bad origin", "v=0\r\no=- x 1 IN IP4 127.0.0.1\r\ns=-\r\n", ErrMalformed},
		{"not type=value", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nhello\r\n", ErrMalformed},
		{"blank line inside", "v=0\r\n\r\no=- 1 1 IN IP4 127.0.0.1\r\n", ErrMalformed},
		{"upper-case type", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nX=1\r\n", ErrMalformed},
		{"nul in value", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=a\x00b\r\n", ErrMalformed},
		{"host name connection", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nm=audio 4000 RTP/AVP 0\r\n", ErrMalformed},
		{"IP4 with IPv6 address", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 ::1\r\nm=audio 4000 RTP/AVP 0\r\n", ErrMalformed},
		{"port too big", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 70000 RTP/AVP 0\r\n", ErrMalformed},
		{"no formats", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP\r\n", ErrMalformed},
		{"payload type 200", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 200\r\n", ErrMalformed},
		{"duplicate payload type", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 0\r\n", ErrMalformed},
		{"no connection", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", ErrMalformed},
		{"bad rtpmap clock", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/fast\r\n", ErrMalformed},
		{"bad ptime", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:-20\r\n", ErrMalformed},
		{"m before o", "v=0\r\nm=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 127.0.0.1\r\n", ErrMalformed},
		{"too large", "v=0\r\n" + string(make([]byte, MaxSize)), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.sdp))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %+v, %v; want %v", s, err, tc.want)
			}
		})
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		d, rev Direction
		name   string
	}{
		{SendRecv, SendRecv, "sendrecv"},
		{SendOnly, RecvOnly, "sendonly"},
		{RecvOnly, SendOnly, "recvonly"},
		{Inactive, Inactive, "inactive"},
		{Unknown, SendRecv, "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.d.String() != tc.name || tc.d.Reverse() != tc.rev {
				t.Errorf("%v: String %q Reverse %v", tc.d, tc.d.String(), tc.d.Reverse())
			}
		})
	}
}
