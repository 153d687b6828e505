package siptest

import (
	"net/netip"
	"testing"
)

func TestSDPRoundTrip(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.2:4000")
	s, err := ParseSDP(buildSDP(a, []uint8{PCMA, PCMU}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != a || len(s.PTs) != 3 || s.PTs[0] != PCMA || s.PTs[1] != PCMU || s.PTs[2] != telephoneEvent {
		t.Errorf("parsed %+v", s)
	}
	// A media-level c= wins over the session's.
	s, err = ParseSDP([]byte("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n"))
	if err != nil || s.Addr != netip.MustParseAddrPort("127.0.0.1:5000") {
		t.Errorf("media-level c=: %+v %v", s, err)
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add(buildSDP(netip.MustParseAddrPort("127.0.0.1:4000"), []uint8{PCMU, PCMA}))
	f.Add([]byte("m=audio x RTP/AVP 0\r\n"))
	f.Add([]byte("c=IN IP4\r\nm=video 1 RTP/AVP 96\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSDP(b)
		if err == nil && len(s.PTs) == 0 {
			t.Errorf("audio stream without payload types from %q", b)
		}
	})
}
