package call

// Cause says why a channel or a call ended. The zero value is Unknown. The
// mapping to SIP status codes lives in one place, in pbx/sip.
type Cause uint8

const (
	CauseUnknown           Cause = iota
	CauseNormal                  // someone hung up after the answer
	CauseBusy                    // the callee is busy (486, or its call limit)
	CauseNoAnswer                // rang until the ring timeout
	CauseUnavailable             // nothing to ring: not registered, unreachable, DND
	CauseCancelled               // the caller hung up before the answer
	CauseRejected                // the callee declined (603)
	CauseNotFound                // the number does not exist
	CauseMediaTimeout            // no RTP for the media timeout: a dead call
	CauseFailed                  // an error on our side or the peer's
	CauseAnsweredElsewhere       // another device of a ring group answered
	CauseShutdown                // the appliance is stopping
	CauseCongestion              // a limit (calls, ports) was reached
	CauseSessionExpired          // the session timer ran out (RFC 4028): the peer vanished
	CauseTransferred             // the leg's party was transferred elsewhere (or its leg replaced)
	CauseBlocked                 // the box refused the number: blacklist, policy, no route, a limit
)

var causeNames = [...]string{
	CauseUnknown:           "unknown",
	CauseNormal:            "normal_clearing",
	CauseBusy:              "busy",
	CauseNoAnswer:          "no_answer",
	CauseUnavailable:       "unavailable",
	CauseCancelled:         "cancelled",
	CauseRejected:          "rejected",
	CauseNotFound:          "not_found",
	CauseMediaTimeout:      "media_timeout",
	CauseFailed:            "failed",
	CauseAnsweredElsewhere: "answered_elsewhere",
	CauseShutdown:          "shutdown",
	CauseCongestion:        "congestion",
	CauseSessionExpired:    "session_expired",
	CauseTransferred:       "transferred",
	CauseBlocked:           "blocked",
}

func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "unknown"
}

// Result is a call's outcome as reports count it.
func (c Cause) Result(answered bool) string {
	if answered {
		return "answered"
	}
	switch c {
	case CauseBusy, CauseCongestion:
		return "busy"
	case CauseNoAnswer:
		return "no_answer"
	case CauseUnavailable, CauseNotFound:
		return "unavailable"
	case CauseCancelled:
		return "cancelled"
	case CauseRejected:
		return "rejected"
	case CauseBlocked:
		return "blocked"
	}
	return "failed"
}
