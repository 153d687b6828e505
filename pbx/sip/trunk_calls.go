package sip

import (
	"errors"
	"sync"
	"time"

	"github.com/ccbox/ccbox/pbx/call"
	"github.com/prometheus/client_golang/prometheus"
)

// TrunkDirection is which way a trunk call goes.
type TrunkDirection uint8

// Directions. The zero value is TrunkDirectionUnknown.
const (
	TrunkDirectionUnknown TrunkDirection = iota
	TrunkInbound
	TrunkOutbound
)

// String returns the metric label: "inbound" or "outbound".
func (d TrunkDirection) String() string {
	switch d {
	case TrunkInbound:
		return "inbound"
	case TrunkOutbound:
		return "outbound"
	}
	return "unknown"
}

// trunkResultLimit is the result label of a call refused at the trunk's
// MaxCalls; trunkResultRate at its CallsPerMinute.
const (
	trunkResultLimit = "limit"
	trunkResultRate  = "rate_limit"
)

// ErrTrunkRate is returned by BeginCall when the trunk has started its
// CallsPerMinute calls in the last minute.
var ErrTrunkRate = errors.New("sip: trunk at its calls-per-minute limit")

// trunkMetrics are the trunks' series; the trunk label is a configured
// name (a handful per box), never a number.
type trunkMetrics struct {
	up     *prometheus.GaugeVec
	active *prometheus.GaugeVec
	total  *prometheus.CounterVec
}

func newTrunkMetrics(reg prometheus.Registerer) (*trunkMetrics, error) {
	m := &trunkMetrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pbx_trunk_up",
			Help: "1 when the trunk is usable: answering OPTIONS and, for registration trunks, registered.",
		}, []string{"trunk"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pbx_trunk_calls_active", Help: "Calls in progress on the trunk, both directions.",
		}, []string{"trunk"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbx_trunk_calls_total",
			Help: "Trunk calls ended, by direction and result (answered, a hangup cause, or limit).",
		}, []string{"trunk", "direction", "result"}),
	}
	for _, c := range []prometheus.Collector{m.up, m.active, m.total} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// forget drops a removed trunk's gauges (its totals stay: counters of a
// trunk that comes back must not go down).
func (m *trunkMetrics) forget(name string) {
	m.up.DeleteLabelValues(name)
	m.active.DeleteLabelValues(name)
}

// TrunkCall is one call counted on a trunk, from BeginCall to End.
type TrunkCall struct {
	t    *Trunks
	tr   *trunk
	dir  TrunkDirection
	once sync.Once
}

// BeginCall counts a call on a trunk before it is set up, enforcing the
// trunk's MaxCalls: ErrTrunkFull (counted with result "limit") when the
// trunk is at it, ErrNoSuchTrunk for a name not configured. End the call
// exactly once; later Ends are ignored.
func (t *Trunks) BeginCall(name string, dir TrunkDirection) (*TrunkCall, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrTrunksClosed
	}
	tr, ok := t.trunks[name]
	if !ok {
		return nil, ErrNoSuchTrunk
	}
	if tr.cfg.MaxCalls > 0 && *tr.calls >= tr.cfg.MaxCalls {
		t.metrics.total.WithLabelValues(name, dir.String(), trunkResultLimit).Inc()
		return nil, ErrTrunkFull
	}
	if n := tr.cfg.CallsPerMinute; n > 0 {
		now := t.opts.Now()
		recent := t.starts[name][:0]
		for _, s := range t.starts[name] {
			if now.Sub(s) < time.Minute {
				recent = append(recent, s)
			}
		}
		if len(recent) >= n {
			t.starts[name] = recent
			t.metrics.total.WithLabelValues(name, dir.String(), trunkResultRate).Inc()
			return nil, ErrTrunkRate
		}
		if t.starts == nil {
			t.starts = map[string][]time.Time{}
		}
		t.starts[name] = append(recent, now)
	}
	*tr.calls++
	t.metrics.active.WithLabelValues(name).Set(float64(*tr.calls))
	return &TrunkCall{t: t, tr: tr, dir: dir}, nil
}

// End uncounts the call: result "answered" when it was answered, else the
// cause's name ("busy", "no_answer", "failed"...).
func (c *TrunkCall) End(answered bool, cause call.Cause) {
	c.once.Do(func() {
		result := "answered"
		if !answered {
			result = cause.String()
		}
		name := c.tr.cfg.Name
		c.t.mu.Lock()
		defer c.t.mu.Unlock()
		*c.tr.calls--
		c.t.metrics.total.WithLabelValues(name, c.dir.String(), result).Inc()
		// The count is shared with a replacement of the trunk (same name);
		// a removed trunk has no gauge any more.
		if cur, ok := c.t.trunks[name]; ok && cur.calls == c.tr.calls {
			c.t.metrics.active.WithLabelValues(name).Set(float64(*c.tr.calls))
		}
	})
}
