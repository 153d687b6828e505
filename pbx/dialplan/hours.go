package dialplan

import (
	"fmt"
	"time"
)

// BusinessHours is a weekly opening window. Days is indexed by
// time.Weekday (Sunday is 0) and marks the days a window starts; From and To
// are offsets from local midnight. From < To is a window inside one day;
// From > To runs overnight into the next day (22:00–06:00); From == To is
// the whole day. Location is the time zone the hours are kept in (nil: the
// zone of the time asked about).
type BusinessHours struct {
	Days     [7]bool
	From, To time.Duration
	Location *time.Location
}

// Validate checks that From and To fall within a day and some day is open.
func (h BusinessHours) Validate() error {
	if h.From < 0 || h.From > 24*time.Hour {
		return fieldErr("from", "must be between 00:00 and 24:00", nil)
	}
	if h.To < 0 || h.To > 24*time.Hour {
		return fieldErr("to", "must be between 00:00 and 24:00", nil)
	}
	for _, d := range h.Days {
		if d {
			return nil
		}
	}
	return fieldErr("days", "no day is open", nil)
}

// Open says whether t falls within the hours.
func (h BusinessHours) Open(t time.Time) bool {
	if h.Location != nil {
		t = t.In(h.Location)
	}
	hh, mm, ss := t.Clock()
	tod := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second +
		time.Duration(t.Nanosecond())
	day := t.Weekday()
	prev := (day + 6) % 7
	switch {
	case h.From == h.To:
		return h.Days[day]
	case h.From < h.To:
		return h.Days[day] && tod >= h.From && tod < h.To
	default: // overnight: the evening of a marked day, or the morning after one
		return (h.Days[day] && tod >= h.From) || (h.Days[prev] && tod < h.To)
	}
}

// String is the window as people write it: "Mon-Fri 09:00-18:00 Asia/Shanghai".
func (h BusinessHours) String() string {
	names := [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	days := ""
	for i, d := range h.Days {
		if d {
			if days != "" {
				days += ","
			}
			days += names[i]
		}
	}
	zone := "local"
	if h.Location != nil {
		zone = h.Location.String()
	}
	clock := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return fmt.Sprintf("%s %s-%s %s", days, clock(h.From), clock(h.To), zone)
}
