package call

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	active prometheus.Gauge
	total  *prometheus.CounterVec
	setup  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pbx_calls_active",
			Help: "Calls in progress (ringing or talking).",
		}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbx_calls_total",
			Help: "Finished calls by result (answered, busy, no_answer, unavailable, cancelled, rejected, failed).",
		}, []string{"result"}),
		setup: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pbx_call_setup_seconds",
			Help:    "Time from a call's arrival to the first sign of life from the callee (ringing, early media or answer).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	reg.MustRegister(m.active, m.total, m.setup)
	return m
}
