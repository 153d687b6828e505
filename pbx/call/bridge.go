package call

import (
	"errors"

	"github.com/ccbox/ccbox/media/rtp"
)

// ErrNoMedia is returned by Bridge when a leg has no media endpoint yet.
var ErrNoMedia = errors.New("call: leg has no media")

// RTPBridge joins two legs' RTP endpoints on the fast path: packets are
// forwarded with SSRC, sequence and timestamp rewritten, translated between
// PCMU and PCMA when the legs differ, never decoded.
type RTPBridge struct{}

// Bridge implements Bridger.
func (RTPBridge) Bridge(a, b Channel) (func(), error) {
	ea, eb := a.Media(), b.Media()
	if ea == nil || eb == nil {
		return nil, ErrNoMedia
	}
	rtp.Bridge(ea, eb)
	return func() { rtp.Unbridge(ea, eb) }, nil
}
