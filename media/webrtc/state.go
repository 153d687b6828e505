package webrtc

import "github.com/pion/webrtc/v4"

// State is a seat connection's state as the call layer sees it.
type State uint8

// The states. The zero value is StateUnknown.
const (
	StateUnknown      State = iota
	StateConnecting         // ICE checks and DTLS handshake under way
	StateConnected          // media can flow
	StateDisconnected       // consent lost (no traffic for a few seconds); may come back
	StateFailed             // consent lost for good; the peer is dead
	StateClosed             // closed by either side
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateFailed:
		return "failed"
	case StateClosed:
		return "closed"
	default:
		return "unknown"
	}
}

// stateOf maps pion's aggregate state. The PeerConnection state already
// folds in the ICE state (disconnected, failed) and DTLS (connected only
// once the handshake is done, closed on close_notify); the ICE state
// decides only while the PeerConnection has not moved past "new".
func stateOf(pcs webrtc.PeerConnectionState, ics webrtc.ICEConnectionState) State {
	switch pcs {
	case webrtc.PeerConnectionStateConnecting:
		return StateConnecting
	case webrtc.PeerConnectionStateConnected:
		return StateConnected
	case webrtc.PeerConnectionStateDisconnected:
		return StateDisconnected
	case webrtc.PeerConnectionStateFailed:
		return StateFailed
	case webrtc.PeerConnectionStateClosed:
		return StateClosed
	}
	switch ics {
	case webrtc.ICEConnectionStateFailed:
		return StateFailed
	case webrtc.ICEConnectionStateClosed:
		return StateClosed
	}
	return StateConnecting
}
