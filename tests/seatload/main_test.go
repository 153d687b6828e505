package main

import (
	"errors"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(config) bool
	}{
		{"defaults", nil, false, func(c config) bool {
			return c.seats == 50 && c.base.String() == "http://127.0.0.1:8080" && c.first == 2001 && c.window == 20*time.Second
		}},
		{"https and counts", []string{"-url", "https://127.0.0.1:8443", "-seats", "200", "-dial-first", "4001"}, false,
			func(c config) bool { return c.base.Scheme == "https" && c.seats == 200 && c.dialFirst == 4001 }},
		{"not a web address", []string{"-url", "udp://127.0.0.1:1"}, true, nil},
		{"no host", []string{"-url", "http://"}, true, nil},
		{"zero seats", []string{"-seats", "0"}, true, nil},
		{"negative rate", []string{"-rate", "-1"}, true, nil},
		{"unknown flag", []string{"-nope"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args)
			if tt.wantErr {
				if !errors.Is(err, errUsage) {
					t.Fatalf("parseFlags(%q) = %v; want errUsage", tt.args, err)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("parseFlags(%q) = %+v, %v", tt.args, c, err)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, n := range v {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(4), 0.99, 4 * time.Millisecond},
		{"median of four is the lower middle", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of ten is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nearest(tt.sorted, tt.q); got != tt.want {
				t.Errorf("nearest(%v, %v) = %v, want %v", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		i    int
		want string
	}{{0, "3001"}, {19, "3020"}, {20, "3001"}, {45, "3006"}} {
		if got := number(3001, 20, tt.i); got != tt.want {
			t.Errorf("number(3001, 20, %d) = %s, want %s", tt.i, got, tt.want)
		}
	}
}
