package webrtc

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/pion/sdp/v3"
)

// mimeTelephoneEvent is RFC 4733's media type.
const mimeTelephoneEvent = "audio/telephone-event"

// checkOffer parses the browser's offer and reports whether it can be
// answered: an active audio section with PCMU or PCMA at 8000 Hz. Pion
// would otherwise answer an Opus-only offer with a section that carries no
// codec, and the seat would connect and stay silent. It returns ErrBadOffer,
// ErrNoAudio or ErrNoCodec.
func checkOffer(offer string) error {
	if strings.TrimSpace(offer) == "" {
		return ErrBadOffer
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	audio := false
	for _, md := range sd.MediaDescriptions {
		if md == nil || md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		audio = true
		if hasG711(md) {
			return nil
		}
	}
	if !audio {
		return ErrNoAudio
	}
	return ErrNoCodec
}

// hasG711 reports whether an audio section offers PCMU or PCMA at 8000 Hz,
// by rtpmap or by static payload type (RFC 3551) without one.
func hasG711(md *sdp.MediaDescription) bool {
	mapped := map[string]bool{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		// "<pt> <name>/<rate>[/<channels>]"
		pt, enc, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		mapped[pt] = true
		name, rest, _ := strings.Cut(enc, "/")
		rateStr, _, _ := strings.Cut(rest, "/")
		rate, err := strconv.Atoi(rateStr)
		if err != nil {
			continue
		}
		if slices.Contains(md.MediaName.Formats, pt) && codec.FromName(name, rate) != codec.Unknown {
			return true
		}
	}
	for _, f := range md.MediaName.Formats {
		if mapped[f] {
			continue
		}
		if n, err := strconv.ParseUint(f, 10, 8); err == nil && codec.FromPayloadType(uint8(n)) != codec.Unknown {
			return true
		}
	}
	return false
}
