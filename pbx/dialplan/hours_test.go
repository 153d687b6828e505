package dialplan

import (
	"errors"
	"testing"
	"time"
)

func TestBusinessHoursOpen(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	newYork := time.FixedZone("EST", -5*3600)
	weekdays := [7]bool{false, true, true, true, true, true, false}
	office := BusinessHours{Days: weekdays, From: 9 * time.Hour, To: 18 * time.Hour, Location: shanghai}
	night := BusinessHours{Days: weekdays, From: 22 * time.Hour, To: 6 * time.Hour, Location: shanghai}
	allDay := BusinessHours{Days: [7]bool{true, false, false, false, false, false, true}, Location: shanghai}
	untilMidnight := BusinessHours{Days: weekdays, From: 20 * time.Hour, To: 24 * time.Hour, Location: shanghai}
	noZone := BusinessHours{Days: weekdays, From: 9 * time.Hour, To: 18 * time.Hour}

	// 2026-03-02 is a Monday.
	at := func(day, h, m int, loc *time.Location) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, loc) }
	tests := []struct {
		name string
		h    BusinessHours
		t    time.Time
		want bool
	}{
		{"monday 09:00 opens", office, at(2, 9, 0, shanghai), true},
		{"monday 08:59 closed", office, at(2, 8, 59, shanghai), false},
		{"monday 17:59 open", office, at(2, 17, 59, shanghai), true},
		{"monday 18:00 closed", office, at(2, 18, 0, shanghai), false},
		{"saturday noon closed", office, at(7, 12, 0, shanghai), false},
		{"sunday noon closed", office, at(8, 12, 0, shanghai), false},
		{"friday noon open", office, at(6, 12, 0, shanghai), true},
		// The same instant seen from another zone: the hours are Shanghai's.
		{"monday 09:30 shanghai asked in UTC", office, at(2, 1, 30, time.UTC), true},
		{"sunday 21:00 new york is monday 10:00 shanghai", office, at(1, 21, 0, newYork), true},
		{"monday 21:00 new york is tuesday 10:00 shanghai", office, at(2, 21, 0, newYork), true},
		{"friday 06:00 new york is friday 19:00 shanghai", office, at(6, 6, 0, newYork), false},
		{"no zone: the time's own", noZone, at(2, 10, 0, newYork), true},
		{"no zone: the time's own, closed", noZone, at(2, 19, 0, newYork), false},
		// Overnight 22:00-06:00 starting Monday to Friday.
		{"monday 23:00 open", night, at(2, 23, 0, shanghai), true},
		{"tuesday 05:59 open (monday's night)", night, at(3, 5, 59, shanghai), true},
		{"tuesday 06:00 closed", night, at(3, 6, 0, shanghai), false},
		{"monday 12:00 closed", night, at(2, 12, 0, shanghai), false},
		{"monday 03:00 closed (sunday night not marked)", night, at(2, 3, 0, shanghai), false},
		{"saturday 03:00 open (friday's night)", night, at(7, 3, 0, shanghai), true},
		{"saturday 23:00 closed", night, at(7, 23, 0, shanghai), false},
		// From == To: the whole of a marked day.
		{"all day saturday 00:00", allDay, at(7, 0, 0, shanghai), true},
		{"all day sunday 23:59", allDay, at(8, 23, 59, shanghai), true},
		{"all day monday closed", allDay, at(2, 12, 0, shanghai), false},
		{"until midnight 23:59:59", untilMidnight, time.Date(2026, 3, 2, 23, 59, 59, 999, shanghai), true},
		{"until midnight 19:59", untilMidnight, at(2, 19, 59, shanghai), false},
		{"zero value is never open", BusinessHours{}, at(2, 12, 0, shanghai), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Open(tt.t); got != tt.want {
				t.Errorf("Open(%v) = %v, want %v (%s)", tt.t, got, tt.want, tt.h)
			}
		})
	}
}

func TestBusinessHoursValidate(t *testing.T) {
	good := BusinessHours{Days: [7]bool{1: true}, From: 9 * time.Hour, To: 24 * time.Hour}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, h := range map[string]BusinessHours{
		"from": {Days: good.Days, From: -time.Minute},
		"to":   {Days: good.Days, To: 25 * time.Hour},
		"days": {From: 9 * time.Hour, To: 18 * time.Hour},
	} {
		var fe *FieldError
		if err := h.Validate(); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("Validate(%s) = %v, want field %s", h, err, field)
		}
	}
	if s := (BusinessHours{Days: [7]bool{1: true, 5: true}, From: 9*time.Hour + 30*time.Minute, To: 18 * time.Hour}).String(); s != "Mon,Fri 09:30-18:00 local" {
		t.Errorf("String = %q", s)
	}
}
