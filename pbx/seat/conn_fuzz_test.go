package seat

import "testing"

// FuzzHandle feeds arbitrary messages to an online seat's protocol: each
// is answered or ignored, and nothing panics.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"type":"seat.dial","number":"1002"}`,
		`{"type":"seat.candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMLineIndex":0}}`,
		`{"type":"seat.transfer","target":"+861012345678"}`,
		`{"type":"seat.ring_on","ring_on":"seat","id":"1"}`,
		`{"type":"seat.resume","token":"00"}`,
		`{"type":"seat.hold"}`, `{"type":"seat.answer_call"}`, `{"type":"seat.hangup"}`,
		`{"type":"seat.online","sdp":"m=audio"}`, `{"type":7}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		fx := newFixture(t)
		p, _ := fx.online("alice")
		p.conn.Handle(msg)
		p.conn.Handle([]byte(`{"type":"seat.hangup"}`))
		p.conn.Close()
	})
}
