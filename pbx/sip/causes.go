package sip

import (
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
)

// The one place where call causes and SIP status codes meet.

// statusFor is the final response an unanswered incoming leg gets when the
// call layer hangs it up with cause.
func statusFor(c call.Cause) (int, string) {
	switch c {
	case call.CauseBusy:
		return sip.StatusBusyHere, "Busy Here"
	case call.CauseNoAnswer, call.CauseUnavailable:
		return sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"
	case call.CauseCancelled:
		return sip.StatusRequestTerminated, "Request Terminated"
	case call.CauseRejected:
		return sip.StatusGlobalDecline, "Decline"
	case call.CauseNotFound:
		return sip.StatusNotFound, "Not Found"
	case call.CauseBlocked:
		// The phone shows the reason phrase: the caller learns the box
		// refused the number, not that it failed.
		return sip.StatusForbidden, "Number Blocked"
	case call.CauseCongestion, call.CauseShutdown:
		return sip.StatusServiceUnavailable, "Service Unavailable"
	}
	return sip.StatusInternalServerError, "Server Internal Error"
}

// causeFromStatus is why a leg we dialed failed, from its final response.
func causeFromStatus(code int) call.Cause {
	switch code {
	case sip.StatusBusyHere, sip.StatusGlobalBusyEverywhere:
		return call.CauseBusy
	case sip.StatusRequestTimeout:
		return call.CauseNoAnswer
	case sip.StatusTemporarilyUnavailable:
		return call.CauseUnavailable
	case sip.StatusNotFound, sip.StatusGone, sip.StatusAddressIncomplete, 604:
		return call.CauseNotFound
	case sip.StatusGlobalDecline:
		return call.CauseRejected
	case sip.StatusRequestTerminated:
		return call.CauseCancelled
	case sip.StatusServiceUnavailable:
		return call.CauseCongestion
	}
	return call.CauseFailed
}

// refusalText is a refusal's reason as a phone's display shows it: a
// BlockedError's Reason in words, short enough for a line.
func refusalText(reason string) string {
	switch reason {
	case "blacklist":
		return "Blacklisted Number"
	case "international":
		return "International Calls Off"
	case "premium":
		return "Premium Numbers Off"
	case "denied":
		return "Number Not Allowed"
	case "locked":
		return "Outside Business Hours"
	case "rate_limit":
		return "Call Limit Reached"
	case "not_allowed":
		return "No Permission"
	case "trunk_origin":
		return "Not Allowed From Trunk"
	}
	return "Number Blocked"
}
