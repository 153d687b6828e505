package sdp

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/media/codec"
)

var box = netip.MustParseAddr("127.0.0.1")

func TestOffer(t *testing.T) {
	o := NewOriginator(1000)
	s := Offer(Local{Addr: box, Port: 20000, Codecs: []codec.Codec{codec.PCMU, codec.PCMA}, TelephoneEvent: 101, Ptime: 20})
	got := string(o.Marshal(s))
	want := "v=0\r\n" +
		"o=- 1000 1000 IN IP4 127.0.0.1\r\n" +
		"s=-\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"t=0 0\r\n" +
		"m=audio 20000 RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n"
	if got != want {
		t.Errorf("offer:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Parse([]byte(got)); err != nil {
		t.Errorf("own offer does not parse: %v", err)
	}
}

func TestOriginatorVersion(t *testing.T) {
	o := NewOriginator(7)
	l := Local{Addr: box, Port: 20000, Codecs: []codec.Codec{codec.PCMU}}
	version := func(b []byte) uint64 {
		s, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if s.Origin.SessionID != 7 {
			t.Fatalf("session id changed to %d", s.Origin.SessionID)
		}
		return s.Origin.Version
	}
	steps := []struct {
		name   string
		change func(*Local)
		want   uint64
	}{
		{"first", func(*Local) {}, 7},
		{"unchanged", func(*Local) {}, 7},
		{"hold", func(l *Local) { l.Direction = SendOnly }, 8},
		{"still held", func(*Local) {}, 8},
		{"new port", func(l *Local) { l.Port = 20002 }, 9},
	}
	for _, st := range steps {
		st.change(&l)
		if got := version(o.Marshal(Offer(l))); got != st.want {
			t.Errorf("%s: version %d, want %d", st.name, got, st.want)
		}
	}
}

func TestAnswer(t *testing.T) {
	both := []codec.Codec{codec.PCMU, codec.PCMA}
	tests := []struct {
		name    string
		file    string
		local   Local
		wantErr error
		codec   codec.Codec
		pts     []uint8
		dir     Direction
		media   int
	}{
		{"baresip", "baresip.sdp", Local{Codecs: both, TelephoneEvent: 101}, nil, codec.PCMU, []uint8{0, 101}, SendRecv, 1},
		{"prefers offerer order", "sipp-uac-pcap.sdp", Local{Codecs: both, TelephoneEvent: 96}, nil, codec.PCMA, []uint8{8, 101}, SendRecv, 1},
		{"no dtmf wanted", "baresip.sdp", Local{Codecs: both}, nil, codec.PCMU, []uint8{0}, SendRecv, 1},
		{"only PCMA accepted", "sipp-uac.sdp", Local{Codecs: []codec.Codec{codec.PCMA}}, nil, codec.Unknown, nil, Unknown, 0},
		{"sendonly offer, rejects video", "video-ipv6-sendonly.sdp", Local{Codecs: both}, nil, codec.PCMA, []uint8{8}, RecvOnly, 3},
		{"we hold", "baresip.sdp", Local{Codecs: both, Direction: SendOnly}, nil, codec.PCMU, []uint8{0}, SendOnly, 1},
		{"browser profile", "chromium.sdp", Local{Codecs: both}, nil, codec.Unknown, nil, Unknown, 0},
	}
	tests[3].wantErr = ErrNoCommonCodec
	tests[6].wantErr = ErrNoAudio
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := Parse(readSDP(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			tc.local.Addr, tc.local.Port = box, 30000
			ans, err := Answer(offer, tc.local)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Answer error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			text := NewOriginator(1).Marshal(ans)
			back, err := Parse(text)
			if err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, text)
			}
			if len(back.Media) != tc.media {
				t.Fatalf("%d media, want %d (one per offered stream)", len(back.Media), tc.media)
			}
			i := back.Audio()
			if i != offer.Audio() {
				t.Fatalf("audio at %d, offered at %d", i, offer.Audio())
			}
			for j := range back.Media {
				if j != i && back.Media[j].Port != 0 {
					t.Errorf("stream %d not rejected", j)
				}
			}
			if back.Addr(i) != netip.AddrPortFrom(box, 30000) {
				t.Errorf("answer names %v, not the appliance", back.Addr(i))
			}
			if c, _ := back.Media[i].Codec(); c != tc.codec {
				t.Errorf("codec %v, want %v", c, tc.codec)
			}
			if got := pts(back.Media[i].Formats); !equalPTs(got, tc.pts) {
				t.Errorf("payload types %v, want %v", got, tc.pts)
			}
			if back.Dir(i) != tc.dir {
				t.Errorf("direction %v, want %v", back.Dir(i), tc.dir)
			}
			if strings.Contains(string(text), "0.0.0.0") {
				t.Errorf("answer names no address:\n%s", text)
			}
		})
	}
}

func equalPTs(a, b []uint8) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
