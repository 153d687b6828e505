package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// registration keeps one extension registered from one endpoint: it
// remembers the last challenge, so a refresh is one REGISTER (nonce count
// up) until the box answers 401 again (a stale nonce).
type registration struct {
	ep        *endpoint
	ext       string
	password  string
	algorithm string // "MD5" or "SHA-256"
	expires   int    // seconds
	host      string // the server's host:port, the request URI's host

	callID  string
	fromTag string
	cseq    uint32
	chal    *challenge
	nc      uint32
}

func newRegistration(ep *endpoint, ext, password, algorithm string, expires int) *registration {
	return &registration{ep: ep, ext: ext, password: password, algorithm: algorithm, expires: expires,
		host: ep.server.String(), callID: randomToken(8) + "@rtpload", fromTag: randomToken(4)}
}

// registerStats counts REGISTER outcomes across a pool.
type registerStats struct {
	ok, challenged, failed atomic.Uint64
	options                atomic.Uint64
}

// register sends one REGISTER (answering one challenge) and reports whether
// it ended in 200.
func (r *registration) register(ctx context.Context, st *registerStats) error {
	uri := "sip:" + r.host
	aor := fmt.Sprintf("<sip:%s@%s>", r.ext, r.host)
	for attempt := 0; attempt < 2; attempt++ {
		r.cseq++
		req := request{method: "REGISTER", uri: uri, via: r.ep.addr, branch: "z9hG4bK" + randomToken(8),
			from: aor + ";tag=" + r.fromTag, to: aor, callID: r.callID, cseq: r.cseq,
			contact: "sip:" + r.ext + "@" + r.ep.addr,
			hdrs:    []string{"Expires: " + strconv.Itoa(r.expires)}}
		if r.chal != nil {
			r.nc++
			req.hdrs = append(req.hdrs, authorization(*r.chal, r.ext, r.password, "REGISTER", uri, r.nc))
		}
		res, err := r.ep.transact(ctx, req)
		if err != nil {
			return err
		}
		switch res.status {
		case 200:
			return nil
		case 401:
			c, err := pickChallenge(res, r.algorithm)
			if err != nil {
				return err
			}
			st.challenged.Add(1)
			r.chal, r.nc = &c, 0
		default:
			return fmt.Errorf("REGISTER %s: %w: %d", r.ext, errStatus, res.status)
		}
	}
	return fmt.Errorf("REGISTER %s: %w: challenged twice", r.ext, errStatus)
}

// answerOptions is an endpoint's request handler for a registered phone:
// it answers OPTIONS (the box's qualify) and anything else with 200.
func answerOptions(st *registerStats) func(*endpoint, *message, *net.UDPAddr) {
	return func(e *endpoint, m *message, from *net.UDPAddr) {
		if m.method == "ACK" {
			return
		}
		if m.method == "OPTIONS" {
			st.options.Add(1)
		}
		_ = e.send(response(m, 200, "OK", randomToken(4), "", nil), from)
	}
}

// registerConfig is the register command's settings.
type registerConfig struct {
	server    *net.UDPAddr
	ips       []string // endpoints' addresses, used in turn
	first     int      // first extension number
	count     int
	prefix    string // secret = prefix + number
	algorithm string
	expires   int
	refresh   time.Duration
	spread    time.Duration // the first registrations are spread over this
	window    time.Duration // measured after all are registered
	timeout   time.Duration // per transaction
}

// registerResult is the register command's final line.
type registerResult struct {
	Event       string   `json:"event"`
	Endpoints   int      `json:"endpoints"`
	Registered  int      `json:"registered"`
	Registers   uint64   `json:"registers_ok"`
	Challenged  uint64   `json:"challenged"`
	Failures    uint64   `json:"failures"`
	Options     uint64   `json:"options_answered"`
	WindowS     float64  `json:"window_s"`
	GenCPUS     float64  `json:"gen_cpu_s"`
	FirstErrors []string `json:"first_errors,omitempty"`
}

// runRegister registers count endpoints, spread over cfg.spread, then keeps
// them refreshed every cfg.refresh through one measured window.
func runRegister(ctx context.Context, cfg registerConfig, out *reporter) error {
	st := &registerStats{}
	regs := make([]*registration, cfg.count)
	for i := range regs {
		ep, err := newEndpoint(cfg.ips[i%len(cfg.ips)], cfg.server, answerOptions(st))
		if err != nil {
			return fmt.Errorf("endpoint %d: %w", i, err)
		}
		defer ep.close()
		go ep.run()
		ext := strconv.Itoa(cfg.first + i)
		regs[i] = newRegistration(ep, ext, cfg.prefix+ext, cfg.algorithm, cfg.expires)
	}
	var (
		registered atomic.Int64
		errMu      sync.Mutex
		firstErrs  []string
	)
	fail := func(err error) {
		st.failed.Add(1)
		errMu.Lock()
		if len(firstErrs) < 5 {
			firstErrs = append(firstErrs, err.Error())
		}
		errMu.Unlock()
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	start := time.Now()
	for i, r := range regs {
		offset := cfg.spread * time.Duration(i) / time.Duration(cfg.count)
		wg.Go(func() {
			timer := time.NewTimer(offset)
			defer timer.Stop()
			for n := 0; ; n++ {
				select {
				case <-runCtx.Done():
					return
				case <-timer.C:
				}
				tctx, cancel := context.WithTimeout(runCtx, cfg.timeout)
				err := r.register(tctx, st)
				cancel()
				switch {
				case runCtx.Err() != nil:
					return
				case err != nil:
					fail(err)
				default:
					st.ok.Add(1)
					if n == 0 {
						registered.Add(1)
					}
				}
				timer.Reset(time.Until(start.Add(offset + cfg.refresh*time.Duration(n+1))))
			}
		})
	}
	// Every endpoint has had its first turn once the spread is over.
	spreadTimer := time.NewTimer(cfg.spread + cfg.timeout)
	select {
	case <-ctx.Done():
		spreadTimer.Stop()
		return ctx.Err()
	case <-spreadTimer.C:
	}
	out.event("registered", map[string]any{"registered": registered.Load(), "failures": st.failed.Load()})
	cpu0 := selfCPU()
	ok0, opts0, chal0 := st.ok.Load(), st.options.Load(), st.challenged.Load()
	window := time.NewTimer(cfg.window)
	select {
	case <-ctx.Done():
		window.Stop()
		return ctx.Err()
	case <-window.C:
	}
	res := registerResult{Event: "result", Endpoints: cfg.count, Registered: int(registered.Load()),
		Registers: st.ok.Load() - ok0, Challenged: st.challenged.Load() - chal0,
		Failures: st.failed.Load(), Options: st.options.Load() - opts0,
		WindowS: cfg.window.Seconds(), GenCPUS: (selfCPU() - cpu0).Seconds()}
	stop()
	wg.Wait()
	errMu.Lock()
	res.FirstErrors = firstErrs
	errMu.Unlock()
	out.json(res)
	return nil
}
