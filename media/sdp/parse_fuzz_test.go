package sdp

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes: it must never panic, and whatever it
// accepts must survive a Marshal/Parse round trip with its streams intact.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000/2 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		for i := range s.Media {
			_ = s.Addr(i)
			_ = s.OnHold(i)
		}
		again, err := Parse(s.Marshal())
		if err != nil {
			t.Fatalf("re-parse of marshalled SDP: %v\n%s", err, s.Marshal())
		}
		if len(again.Media) != len(s.Media) {
			t.Fatalf("%d media after round trip, want %d", len(again.Media), len(s.Media))
		}
	})
}
