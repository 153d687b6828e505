package rtp

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the relay's counters, shared by every endpoint of a pool.
// The hot path only adds to atomics; Prometheus reads them at scrape time
// through a collector, so counting costs no lock and no allocation.
type Metrics struct {
	// Each counter on its own cache line: the two cores' readers add to
	// them concurrently.
	in   paddedCounter
	out  paddedCounter
	lost paddedCounter

	packetsDesc *prometheus.Desc
	lostDesc    *prometheus.Desc
	pairsDesc   *prometheus.Desc

	// pools are read at scrape time for their socket pairs.
	poolsMu sync.Mutex
	pools   []*PortPool
}

type paddedCounter struct {
	atomic.Uint64
	_ [56]byte
}

// NewMetrics registers pbx_rtp_packets_total{direction},
// pbx_rtp_packets_lost_total and pbx_rtp_socket_pairs{state} on reg. Call
// it once per registry.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		packetsDesc: prometheus.NewDesc("pbx_rtp_packets_total",
			"RTP packets received (in) and sent (out) by the relay's endpoints.", []string{"direction"}, nil),
		lostDesc: prometheus.NewDesc("pbx_rtp_packets_lost_total",
			"RTP packets the relay's endpoints never received, counted from sequence-number gaps.", nil, nil),
		pairsDesc: prometheus.NewDesc("pbx_rtp_socket_pairs",
			"RTP/RTCP socket pairs bound: in_use by a call's endpoint, or parked between calls (kept bound for the next, closed after PoolConfig.IdleClose unused).",
			[]string{"state"}, nil),
	}
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.packetsDesc
	ch <- m.lostDesc
	ch <- m.pairsDesc
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(m.packetsDesc, prometheus.CounterValue, float64(m.in.Load()), "in")
	ch <- prometheus.MustNewConstMetric(m.packetsDesc, prometheus.CounterValue, float64(m.out.Load()), "out")
	ch <- prometheus.MustNewConstMetric(m.lostDesc, prometheus.CounterValue, float64(m.lost.Load()))
	var inUse, parked int
	m.poolsMu.Lock()
	for _, p := range m.pools {
		u, k := p.pairs()
		inUse += u
		parked += k
	}
	m.poolsMu.Unlock()
	ch <- prometheus.MustNewConstMetric(m.pairsDesc, prometheus.GaugeValue, float64(inUse), "in_use")
	ch <- prometheus.MustNewConstMetric(m.pairsDesc, prometheus.GaugeValue, float64(parked), "parked")
}

// watch counts p's socket pairs in pbx_rtp_socket_pairs.
func (m *Metrics) watch(p *PortPool) {
	m.poolsMu.Lock()
	m.pools = append(m.pools, p)
	m.poolsMu.Unlock()
}
