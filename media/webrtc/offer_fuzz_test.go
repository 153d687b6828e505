package webrtc

import (
	"errors"
	"testing"
	"time"
)

// FuzzCheckOffer: any text from the page is refused with one of the
// sentinels or accepted, never a panic.
func FuzzCheckOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:126 telephone-event/8000\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 8\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 96\r\na=rtpmap:96 PCMA\r\na=rtpmap:x\r\n")
	f.Add("v=0\r\nm=video 0 RTP/AVP 0\r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, offer string) {
		err := checkOffer(offer)
		if err != nil && !errors.Is(err, ErrBadOffer) && !errors.Is(err, ErrNoAudio) && !errors.Is(err, ErrNoCodec) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzQualityRTCP: whatever RTCP the browser sends (after SRTCP), the
// report parsing neither panics nor reports a negative RTT or loss out of
// range.
func FuzzQualityRTCP(f *testing.F) {
	// A receiver report about SSRC 0x01020304 with LSR and DLSR set.
	f.Add([]byte{0x81, 201, 0, 7, 0, 0, 0, 9, 1, 2, 3, 4, 0x10, 0, 0, 1, 0, 0, 0, 50, 0, 0, 0, 20, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1})
	f.Add([]byte{0x80, 200, 0, 6, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		var q quality
		q.rtcp(b, 0x01020304, now)
		got := q.snapshot(0, now)
		if got.RTT < 0 || got.LossOut < 0 || got.LossOut > 1 || got.JitterOut < 0 {
			t.Fatalf("quality %+v", got)
		}
	})
}

// FuzzQualityReceived: inbound RTP headers of any content keep LossIn
// within 0..1.
func FuzzQualityReceived(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1, 0x80, 0, 0, 3, 0, 0, 1, 224, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var q quality
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		q.snapshot(0, now)
		for len(b) >= 12 {
			q.received(b[:12], 0, now)
			now = now.Add(20 * time.Millisecond)
			b = b[12:]
		}
		got := q.snapshot(0, now.Add(time.Second))
		if got.LossIn < 0 || got.LossIn > 1 || got.JitterIn < 0 {
			t.Fatalf("quality %+v", got)
		}
	})
}
