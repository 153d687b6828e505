package siptest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Payload types the phone speaks (RFC 3551 static assignments).
const (
	PCMU uint8 = 0
	PCMA uint8 = 8
)

// telephoneEvent is the payload type the phone offers for RFC 4733.
const telephoneEvent = 101

// SDP is what the phone reads from a session description: where the peer
// wants audio and which payload types it lists, in its order. The phone
// parses SDP itself, independently of the appliance's media/sdp, so a
// mistake there cannot hide in the test.
type SDP struct {
	Addr netip.AddrPort // the audio stream's connection address and port
	PTs  []uint8        // the m=audio line's payload types
}

// ParseSDP reads the connection address and the first audio stream.
func ParseSDP(b []byte) (SDP, error) {
	var s SDP
	var sessionIP, mediaIP netip.Addr
	port := -1
	inAudio := false
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "m="):
			if port >= 0 {
				inAudio = false
				continue
			}
			f := strings.Fields(line[2:])
			if len(f) < 4 || f[0] != "audio" {
				inAudio = false
				continue
			}
			p, err := strconv.Atoi(f[1])
			if err != nil {
				return s, fmt.Errorf("siptest: m= port %q", f[1])
			}
			port, inAudio = p, true
			for _, pt := range f[3:] {
				n, err := strconv.Atoi(pt)
				if err != nil || n < 0 || n > 127 {
					return s, fmt.Errorf("siptest: payload type %q", pt)
				}
				s.PTs = append(s.PTs, uint8(n))
			}
		case strings.HasPrefix(line, "c="):
			f := strings.Fields(line[2:])
			if len(f) != 3 {
				return s, fmt.Errorf("siptest: c= line %q", line)
			}
			ip, err := netip.ParseAddr(f[2])
			if err != nil {
				return s, fmt.Errorf("siptest: c= address: %w", err)
			}
			if inAudio {
				mediaIP = ip
			} else if port < 0 {
				sessionIP = ip
			}
		}
	}
	if port < 0 {
		return s, fmt.Errorf("siptest: no audio stream")
	}
	ip := sessionIP
	if mediaIP.IsValid() {
		ip = mediaIP
	}
	s.Addr = netip.AddrPortFrom(ip, uint16(port))
	return s, nil
}

// buildSDP writes an offer or answer naming addr and the payload types.
func buildSDP(addr netip.AddrPort, pts []uint8) []byte {
	var b strings.Builder
	ip := addr.Addr().String()
	fmt.Fprintf(&b, "v=0\r\no=siptest 1 1 IN IP4 %s\r\ns=siptest\r\nc=IN IP4 %s\r\nt=0 0\r\n", ip, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", addr.Port())
	for _, pt := range pts {
		fmt.Fprintf(&b, " %d", pt)
	}
	fmt.Fprintf(&b, " %d\r\n", telephoneEvent)
	for _, pt := range pts {
		switch pt {
		case PCMU:
			b.WriteString("a=rtpmap:0 PCMU/8000\r\n")
		case PCMA:
			b.WriteString("a=rtpmap:8 PCMA/8000\r\n")
		}
	}
	fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
		telephoneEvent, telephoneEvent)
	return []byte(b.String())
}

// choose picks the first offered payload type the phone accepts.
func choose(offered, accepted []uint8) (uint8, bool) {
	for _, o := range offered {
		for _, a := range accepted {
			if o == a {
				return o, true
			}
		}
	}
	return 0, false
}
