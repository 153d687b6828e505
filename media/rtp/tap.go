package rtp

// Tap is called with each audio packet an endpoint accepts (every packet
// that is not of its telephone-event payload type), on its relay loop,
// before the packet goes to the sink. An in-band DTMF detector listens with
// one. Like an EventFunc it must not keep pkt, must not change it and must
// not block.
type Tap func(pkt *Packet)

// SetTap sets the endpoint's tap (nil removes it). Without one the relay
// pays a single atomic load per packet.
func (e *Endpoint) SetTap(t Tap) {
	if t == nil {
		e.tap.Store(nil)
		return
	}
	e.tap.Store(&t)
}

// MuteRelay, while on, drops what another endpoint relays into e (counted
// as dropped) but still sends what the call layer sends itself with Send:
// the box plays a DTMF tone or music to a bridged leg without unbridging
// it, and the other leg's audio resumes, renumbered into the same output
// stream, when it is switched off.
func (e *Endpoint) MuteRelay(on bool) { e.muted.Store(on) }

// DTMFPayloadType returns the telephone-event payload type set by SetCodec,
// and false when the leg negotiated none (then DTMF to it must go in-band
// or by SIP INFO).
func (e *Endpoint) DTMFPayloadType() (uint8, bool) {
	f := unpackFormat(e.format.Load())
	return f.dtmf, f.hasDTMF
}
