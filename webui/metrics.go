package webui

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	logins   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbx_http_requests_total",
			Help: "HTTP requests served, by route pattern and status class.",
		}, []string{"route", "code_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pbx_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbx_web_logins_total",
			Help: "Web login attempts by result (ok, bad_credentials, locked, disabled).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.duration, m.logins)
	return m
}

// middleware counts requests by route pattern (never the raw path, which
// would carry user names and make a label per request).
func (m *metrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	route := "unmatched"
	if r := c.Route(); r != nil && !(r.Method == "USE" && r.Path == "/") {
		route = r.Path
	}
	status := c.Response().StatusCode()
	if err != nil {
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		} else if ae, ok := err.(*apiError); ok {
			status = ae.Status
		}
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status/100)+"xx").Inc()
	m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return err
}

func (s *Server) metricsHandler() fiber.Handler {
	g := s.opts.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	return adaptor.HTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: nil}))
}
