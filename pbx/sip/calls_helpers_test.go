package sip

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/config/store"
	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/ccbox/ccbox/pbx/sip/siptest"
	"github.com/prometheus/client_golang/prometheus"
)

// rtpPorts is the small RTP range the call tests' pool hands out.
var rtpPorts = config.PortRange{First: 47310, Last: 47349}

// callDir is both directories of the call tests: the call layer's numbers
// and the B2BUA's extension details.
type callDir struct {
	codecs map[string][]codec.Codec // extension → codecs (nil: default)
}

func (d callDir) Lookup(number string, _ call.Origin) (call.Target, error) {
	switch number {
	case "1001", "1002", "1003":
		return call.Target{Device: call.Device{Kind: call.DeviceSIP, ID: number}, Party: call.Party{Number: number}}, nil
	}
	return call.Target{}, call.ErrNotFound
}

func (d callDir) CallerInfo(ext Extension) (CallerInfo, error) {
	switch ext {
	case "1001", "1002", "1003":
		return CallerInfo{Name: "ext " + string(ext), Codecs: d.codecs[string(ext)]}, nil
	}
	return CallerInfo{}, ErrNoSuchExtension
}

// records keeps CDRs in memory.
type records struct {
	mu   sync.Mutex
	cdrs []store.CDR
}

func (r *records) AddCDR(c store.CDR) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cdrs = append(r.cdrs, c)
	return nil
}

func (r *records) all() []store.CDR {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]store.CDR(nil), r.cdrs...)
}

// callEnv is a running B2BUA: server, RTP pool, Calls and call.Manager.
type callEnv struct {
	*env
	pool    *rtp.PortPool
	calls   *Calls
	mgr     *call.Manager
	records *records
}

// callOpts adjusts a call environment.
type callOpts struct {
	codecs         map[string][]codec.Codec
	ringTimeout    time.Duration
	sessionExpires time.Duration // session timer interval (0: default)
}

// startCalls runs a B2BUA on 127.0.0.1 until the test ends, and checks at
// the end that every call, RTP port and goroutine it started is gone.
func startCalls(t *testing.T, o callOpts) *callEnv {
	t.Helper()
	checkGoroutines(t)
	e := startServer(t, nil, nil)
	// The server learns its UDP address once sipgo pooled the socket; a
	// call placed before that would be refused (503).
	eventually(t, 5*time.Second, "UDP listener ready", func() bool { return e.srv.listenAddr(TransportUDP).IsValid() })
	m, err := rtp.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pool, err := rtp.NewPortPool(rtp.PoolConfig{IP: netip.MustParseAddr("127.0.0.1"), Ports: rtpPorts,
		Metrics: m, Log: testLog(), CheckInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dir := callDir{codecs: o.codecs}
	calls := NewCalls(e.srv, pool, dir, CallConfig{SessionExpires: o.sessionExpires, MinSE: o.sessionExpires})
	if o.ringTimeout == 0 {
		o.ringTimeout = 5 * time.Second
	}
	rec := &records{}
	mgr := call.NewManager(call.Options{
		Dialer: calls, Bridger: call.RTPBridge{}, Directory: dir, Records: rec,
		Logger: testLog(), Registerer: prometheus.NewRegistry(), Limits: call.Limits{RingTimeout: o.ringTimeout},
	})
	calls.SetManager(mgr)
	ce := &callEnv{env: e, pool: pool, calls: calls, mgr: mgr, records: rec}
	// Runs before the server stops (cleanups run last-registered first):
	// every call must have ended on its own and released its ports.
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { mgr.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("calls still running at the end of the test")
		}
		eventually(t, 5*time.Second, "RTP ports released", func() bool { return pool.InUse() == 0 })
	})
	return ce
}

// checkGoroutines fails the test if, once everything it started has been
// cleaned up, more goroutines run than before it (with a little slack for
// runtime helpers).
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(15 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before+2 {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(50 * time.Millisecond) // polling interval, bounded by the deadline
		}
	})
}

// registered starts a UDP phone on ip and registers it as ext.
func (ce *callEnv) registered(t *testing.T, ip, ext string) *siptest.Phone {
	t.Helper()
	p := newPhone(t, "udp", ip+":0")
	res, err := p.Register(ctxT(t, 5*time.Second), siptest.Register{
		Server: ce.udp, Ext: ext, Password: testPasswords[Extension(ext)], Algorithm: "MD5", Expires: 300,
	})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register %s: %v %v", ext, res, err)
	}
	return p
}

// dial places a call from 1001 with its password.
func (ce *callEnv) dial(t *testing.T, p *siptest.Phone, to string, mod func(*siptest.Dial)) *siptest.Call {
	t.Helper()
	d := siptest.Dial{Server: ce.udp, To: to, Ext: "1001", Password: testPasswords["1001"], Algorithm: "SHA-256"}
	if mod != nil {
		mod(&d)
	}
	c, err := p.Invite(ctxT(t, 5*time.Second), d)
	if err != nil {
		t.Fatalf("invite %s: %v", to, err)
	}
	t.Cleanup(func() {
		// A call the test left up is hung up so the B2BUA can finish.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Hangup(ctx)
	})
	return c
}

// inRange reports whether a is the appliance's media address with a port
// of the pool's range.
func inRange(a netip.AddrPort) bool {
	return a.Addr() == netip.MustParseAddr("127.0.0.1") &&
		int(a.Port()) >= rtpPorts.First && int(a.Port()) <= rtpPorts.Last
}

// checkSDPs fails unless every SDP the call received names the appliance.
func checkSDPs(t *testing.T, who string, c *siptest.Call) {
	t.Helper()
	sdps := c.SDPs()
	if len(sdps) == 0 {
		t.Errorf("%s received no SDP", who)
	}
	for _, b := range sdps {
		s, err := siptest.ParseSDP(b)
		if err != nil {
			t.Errorf("%s: SDP %q: %v", who, b, err)
			continue
		}
		if !inRange(s.Addr) {
			t.Errorf("%s received SDP naming %v, want 127.0.0.1 and a port in %v", who, s.Addr, rtpPorts)
		}
	}
}

// waitPackets waits until p's RTP socket has received n packets.
func waitPackets(t *testing.T, p *siptest.Phone, n int, what string) []siptest.Packet {
	t.Helper()
	eventually(t, 5*time.Second, what, func() bool { return len(p.RTP.Received()) >= n })
	return p.RTP.Received()
}

// checkCounterStream checks that pkts are one stream of the counter
// pattern tagged tag: one SSRC, consecutive sequence numbers and counter
// indexes, all from the appliance's media address want.
func checkCounterStream(t *testing.T, who string, pkts []siptest.Packet, tag byte, want netip.AddrPort) {
	t.Helper()
	if len(pkts) == 0 {
		t.Errorf("%s received no RTP", who)
		return
	}
	for i, p := range pkts {
		if p.From != want {
			t.Errorf("%s: packet %d from %v, want the appliance's %v", who, i, p.From, want)
			return
		}
		gotTag, idx, ok := siptest.CounterTag(p.Payload)
		if !ok || gotTag != tag {
			t.Errorf("%s: packet %d tagged %#x, want %#x", who, i, gotTag, tag)
			return
		}
		if i == 0 {
			continue
		}
		prev := pkts[i-1]
		_, pidx, _ := siptest.CounterTag(prev.Payload)
		if p.SSRC != prev.SSRC {
			t.Errorf("%s: SSRC changed from %#x to %#x at packet %d", who, prev.SSRC, p.SSRC, i)
			return
		}
		if p.Seq != prev.Seq+1 || idx != pidx+1 {
			t.Errorf("%s: packet %d seq %d index %d after seq %d index %d", who, i, p.Seq, idx, prev.Seq, pidx)
			return
		}
	}
}

// waitCDR waits for the n-th CDR.
func (ce *callEnv) waitCDR(t *testing.T, n int) store.CDR {
	t.Helper()
	eventually(t, 10*time.Second, "CDR written", func() bool { return len(ce.records.all()) >= n })
	return ce.records.all()[n-1]
}
