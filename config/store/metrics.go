package store

import "github.com/prometheus/client_golang/prometheus"

// metrics are the store's Prometheus collectors; Close unregisters them so a
// store can be reopened in the same process.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector
	gcRuns     prometheus.Counter
}

func registerMetrics(reg prometheus.Registerer, db *DB) (*metrics, error) {
	m := &metrics{
		reg: reg,
		gcRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pbx_store_gc_runs_total",
			Help: "Value-log garbage collection passes run.",
		}),
	}
	// Badger refreshes Size about once a minute; reading it is cheap.
	lsm := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pbx_store_lsm_bytes",
		Help: "Size of the store's LSM tree on disk.",
	}, func() float64 { l, _ := db.bdb.Size(); return float64(l) })
	vlog := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pbx_store_vlog_bytes",
		Help: "Size of the store's value log on disk.",
	}, func() float64 { _, v := db.bdb.Size(); return float64(v) })
	schema := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pbx_store_schema_version",
		Help: "Schema version of the open store.",
	}, func() float64 { return float64(db.SchemaVersion()) })

	for _, c := range []prometheus.Collector{lsm, vlog, m.gcRuns, schema} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, err
		}
		m.collectors = append(m.collectors, c)
	}
	return m, nil
}

func (m *metrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}
