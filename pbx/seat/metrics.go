package seat

import "github.com/prometheus/client_golang/prometheus"

// collector reads the registry at scrape time: pbx_seats{state} and each
// online seat's media quality from RTCP (docs/metrics.md).
type collector struct{ r *Registry }

var (
	seatsDesc = prometheus.NewDesc("pbx_seats", "Browser seats online, by state.", []string{"state"}, nil)
	rttDesc   = prometheus.NewDesc("pbx_seat_rtt_seconds",
		"Round-trip time to a seat's browser, from RTCP receiver reports.", []string{"extension"}, nil)
	jitterDesc = prometheus.NewDesc("pbx_seat_jitter_seconds",
		"Interarrival jitter of a seat's audio: in = the browser's stream as received, out = ours as the browser reports it.",
		[]string{"extension", "direction"}, nil)
	lossDesc = prometheus.NewDesc("pbx_seat_loss_ratio",
		"Fraction of a seat's audio packets lost: in = from the browser, out = to it (as it reports).",
		[]string{"extension", "direction"}, nil)
)

// seatStates are the states pbx_seats always shows (zero included), so
// a dashboard's series do not come and go.
var seatStates = []State{StateConnecting, StateIdle, StateRinging, StateInCall, StateUnavailable}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- seatsDesc
	ch <- rttDesc
	ch <- jitterDesc
	ch <- lossDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	counts := make(map[State]int, len(seatStates))
	for _, s := range c.r.all() {
		s.mu.Lock()
		st, peer := s.stateLocked(), s.peer
		s.mu.Unlock()
		counts[st]++
		if peer == nil || st == StateOffline {
			continue
		}
		q := peer.Quality()
		ext := s.ext.Number
		ch <- prometheus.MustNewConstMetric(rttDesc, prometheus.GaugeValue, q.RTT.Seconds(), ext)
		ch <- prometheus.MustNewConstMetric(jitterDesc, prometheus.GaugeValue, q.JitterIn.Seconds(), ext, "in")
		ch <- prometheus.MustNewConstMetric(jitterDesc, prometheus.GaugeValue, q.JitterOut.Seconds(), ext, "out")
		ch <- prometheus.MustNewConstMetric(lossDesc, prometheus.GaugeValue, q.LossIn, ext, "in")
		ch <- prometheus.MustNewConstMetric(lossDesc, prometheus.GaugeValue, q.LossOut, ext, "out")
	}
	for _, st := range seatStates {
		ch <- prometheus.MustNewConstMetric(seatsDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}
