package seat

import (
	"time"

	"github.com/ccbox/ccbox/media/webrtc"
	"github.com/ccbox/ccbox/pbx/call"
)

// The server's messages (docs/events.md, "Browser seats").

type stateMsg struct {
	Type    string       `json:"type"` // seat.state
	Seat    seatView     `json:"seat"`
	Call    *callView    `json:"call"`
	Quality *qualityView `json:"quality"`
}

type seatView struct {
	State     State  `json:"state"`
	Extension string `json:"extension"`
	Name      string `json:"name"`
	RingOn    string `json:"ring_on"`
	Token     string `json:"token"`
}

type callView struct {
	ID        string     `json:"id"`
	Direction string     `json:"direction"` // in: the seat is rung; out: the seat called
	State     string     `json:"state"`
	Remote    call.Party `json:"remote"`
	Started   int64      `json:"started"`  // unix ms
	Answered  int64      `json:"answered"` // unix ms, 0 before
	Cause     string     `json:"cause,omitempty"`
	Reason    string     `json:"reason,omitempty"` // a refused call: blacklist, international, locked…
}

type qualityView struct {
	RTTms       float64 `json:"rtt_ms"`
	LossIn      float64 `json:"loss_in"`  // fraction of the page's packets lost on the way in
	LossOut     float64 `json:"loss_out"` // fraction of ours the page reports lost
	JitterInMs  float64 `json:"jitter_in_ms"`
	JitterOutMs float64 `json:"jitter_out_ms"`
}

func newQualityView(q webrtc.Quality) qualityView {
	return qualityView{RTTms: ms(q.RTT), LossIn: q.LossIn, LossOut: q.LossOut,
		JitterInMs: ms(q.JitterIn), JitterOutMs: ms(q.JitterOut)}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type transferMsg struct {
	Type  string `json:"type"` // seat.transfer
	State string `json:"state"`
	Cause string `json:"cause,omitempty"`
}

type resultMsg struct {
	Type  string      `json:"type"` // seat.result
	ID    string      `json:"id,omitempty"`
	OK    bool        `json:"ok"`
	Error *protoError `json:"error,omitempty"`
}

type answerMsg struct {
	Type string `json:"type"` // seat.answer
	SDP  string `json:"sdp"`
}

type simpleMsg struct {
	Type string `json:"type"`
}

// protoError is a refusal the page shows, by code.
type protoError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *protoError) Error() string { return "seat: " + e.Code + ": " + e.Message }

// Refusals.
var (
	errSeatInUse   = &protoError{Code: "seat_in_use", Message: "this extension is online in another window"}
	errNoExtension = &protoError{Code: "no_extension", Message: "you own no extension; ask an administrator for one"}
	errNotOnline   = &protoError{Code: "not_online", Message: "go online first"}
	errNoCall      = &protoError{Code: "no_call", Message: "there is no call to do that with"}
	errBusy        = &protoError{Code: "busy", Message: "the seat is already in a call"}
	errNotReady    = &protoError{Code: "not_online", Message: "the seat's audio is not connected yet"}
	errSeatGone    = &protoError{Code: "seat_gone", Message: "the seat is no longer online; go online again"}
)
