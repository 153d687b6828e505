package bench

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// latencySummary is the distribution of a set of durations.
type latencySummary struct {
	N             int
	P50, P99, Max time.Duration
}

// summarize returns the count, the 50th and 99th percentile (nearest rank)
// and the maximum of ds. It does not change ds.
func summarize(ds []time.Duration) latencySummary {
	s := slices.Clone(ds)
	slices.Sort(s)
	out := latencySummary{N: len(s), P50: percentile(s, 50), P99: percentile(s, 99)}
	if len(s) > 0 {
		out.Max = s[len(s)-1]
	}
	return out
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. Zero for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ms returns d in milliseconds, the unit of every duration metric.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// String prints the summary for the log, such as
// "n=400 p50=3.1ms p99=12.0ms max=40.2ms".
func (s latencySummary) String() string {
	return fmt.Sprintf("n=%d p50=%.1fms p99=%.1fms max=%.1fms", s.N, ms(s.P50), ms(s.P99), ms(s.Max))
}

// verdict words a comparison with a target for the log.
func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func TestPercentile(t *testing.T) {
	d := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n)
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", d(7), 99, 7},
		{"median of odd count", d(1, 2, 3, 4, 5), 50, 3},
		{"median of even count is the lower middle", d(1, 2, 3, 4), 50, 2},
		{"p99 of 100 values", hundred, 99, 99},
		{"p100 is the maximum", hundred, 100, 100},
		{"p99 of 10 values is the maximum", d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10},
		{"tiny p is the minimum", d(4, 5, 6), 0.1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		want latencySummary
	}{
		{"empty", nil, latencySummary{}},
		{"unsorted input", []time.Duration{30, 10, 20}, latencySummary{N: 3, P50: 20, P99: 30, Max: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			if got := summarize(in); got != tt.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("summarize changed its input to %v", in)
			}
		})
	}
}
