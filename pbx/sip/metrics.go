package sip

import (
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the registrar's Prometheus series; labels are bounded sets
// (method names we know, status classes), never a number or a Call-ID.
type metrics struct {
	requests      *prometheus.CounterVec
	responses     *prometheus.CounterVec
	registrations prometheus.Gauge
	authFailures  prometheus.Counter
	banned        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbx_sip_requests_total", Help: "SIP requests received, by method (unknown methods count as other).",
		}, []string{"method"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbx_sip_responses_total", Help: "SIP responses sent, by status class (1xx..6xx).",
		}, []string{"code_class"}),
		registrations: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pbx_registrations", Help: "Registered contacts, over all extensions.",
		}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pbx_auth_failures_total", Help: "SIP digest authentication failures.",
		}),
		banned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pbx_banned_sources", Help: "Source IPs currently banned for repeated auth failures.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.responses, m.registrations, m.authFailures, m.banned} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// methodLabel maps a request method onto the bounded label set.
func methodLabel(m sip.RequestMethod) string {
	switch m {
	case sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER, sip.OPTIONS,
		sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE, sip.PRACK,
		sip.UPDATE, sip.PUBLISH:
		return string(m)
	}
	return "other"
}

// codeClass returns "1xx".."6xx" for a status code.
func codeClass(code int) string {
	switch {
	case code >= 100 && code < 200:
		return "1xx"
	case code < 300 && code >= 200:
		return "2xx"
	case code < 400 && code >= 300:
		return "3xx"
	case code < 500 && code >= 400:
		return "4xx"
	case code < 600 && code >= 500:
		return "5xx"
	case code < 700 && code >= 600:
		return "6xx"
	}
	return "other"
}
