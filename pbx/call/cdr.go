package call

import (
	"time"

	"github.com/ccbox/ccbox/config/store"
)

// cdr is the call's record: one leg per channel that took part, with its
// role (caller, callee, transfer_target, pickup, replaces), its own times
// and cause.
func (c *callRun) cdr() store.CDR {
	cdr := store.CDR{
		Serial:     string(c.serial),
		Start:      c.start,
		Answer:     c.answered,
		End:        c.end,
		Caller:     c.from.Number,
		CallerName: c.from.Name,
		Callee:     c.dialed,
		Direction:  "internal",
		Result:     c.cause.Result(!c.answered.IsZero()),
		Cause:      c.cause.String(),
		HangupBy:   c.hangupBy,
	}
	for _, r := range c.records {
		end := r.end
		if end.IsZero() {
			end = c.end
		}
		cdr.Legs = append(cdr.Legs, leg(r.ch, r.role, r.start, r.answered, end))
	}
	return cdr
}

func leg(ch Channel, role string, start, answered, end time.Time) store.CDRLeg {
	l := store.CDRLeg{Channel: string(ch.ID()), Role: role, Device: ch.Device().String(), Address: ch.Address(),
		Codec: ch.Codec(), Start: start, Answer: answered, End: end}
	select {
	case <-ch.Done():
		l.Cause = ch.Cause().String()
	default:
	}
	return l
}
