package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "seatload:", err)
		os.Exit(1)
	}
}

// errUsage is returned for a bad flag.
var errUsage = errors.New("usage: seatload -url URL -seats N [flags]")

// config is the run's settings.
type config struct {
	base        *url.URL
	seats       int
	first       int    // the first seat's extension; its user is userPrefix + extension
	userPrefix  string // user names
	password    string // every seat user's password
	dialFirst   int    // the extensions the seats dial, in turn
	dialCount   int
	dialRate    float64 // calls placed per second
	concurrency int     // sign-ins and offers prepared at once
	onlineLimit time.Duration
	callLimit   time.Duration
	settle      time.Duration
	window      time.Duration
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("seatload", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "the box's web address (HTTP or HTTPS)")
	fs.IntVar(&c.seats, "seats", 50, "seats (pages), each its own user and extension")
	fs.IntVar(&c.first, "first", 2001, "the first seat's extension")
	fs.StringVar(&c.userPrefix, "user-prefix", "seat", "a seat's user is this prefix and its extension")
	fs.StringVar(&c.password, "password", "seat-password-1", "the seat users' password")
	fs.IntVar(&c.dialFirst, "dial-first", 3001, "first extension the seats dial")
	fs.IntVar(&c.dialCount, "dial-count", 20, "extensions the seats dial, in turn")
	fs.Float64Var(&c.dialRate, "rate", 50, "calls placed per second")
	fs.IntVar(&c.concurrency, "concurrency", 8, "sign-ins and offers prepared at once")
	fs.DurationVar(&c.onlineLimit, "online-timeout", 60*time.Second, "bound of one seat's going online")
	fs.DurationVar(&c.callLimit, "call-timeout", 20*time.Second, "bound of one call's set-up")
	fs.DurationVar(&c.settle, "settle", 2*time.Second, "wait after the last call is up, before measuring")
	fs.DurationVar(&c.window, "window", 20*time.Second, "the measured window")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("%w: %w", errUsage, err)
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("%w: -url %q: want http(s)://host:port", errUsage, *base)
	}
	c.base = u
	if c.seats < 1 || c.dialCount < 1 || c.dialRate <= 0 || c.concurrency < 1 || c.window <= 0 {
		return c, fmt.Errorf("%w: -seats, -dial-count, -rate, -concurrency and -window must be positive", errUsage)
	}
	return c, nil
}

// result is the final line.
type result struct {
	Event string `json:"event"` // result
	Seats int    `json:"seats"`
	// Going online, all offers at once.
	Online       int     `json:"online"`
	OnlineFailed int     `json:"online_failed"`
	OnlineS      float64 `json:"online_s"`    // first offer to last connected
	OnlineRate   float64 `json:"online_rate"` // seats per second
	OnlineP50    float64 `json:"online_p50_ms"`
	OnlineP99    float64 `json:"online_p99_ms"`
	OnlineMax    float64 `json:"online_max_ms"`
	// Calls.
	Established int     `json:"established"`
	SetupFailed int     `json:"setup_failed"`
	WindowS     float64 `json:"window_s"`
	Media       struct {
		Sent       uint64  `json:"sent"`
		Received   uint64  `json:"received"`
		Lost       uint64  `json:"lost"`
		Late       uint64  `json:"late"` // round trip over lateAfter
		Crossed    uint64  `json:"crossed"`
		Deaf       int     `json:"deaf"`
		SendErrors uint64  `json:"send_errors"`
		Foreign    uint64  `json:"foreign"`
		SeatToSIP  latency `json:"seat_to_sip"`
		SIPToSeat  latency `json:"sip_to_seat"`
		RoundTrip  latency `json:"round_trip"`
		MaxTickLag float64 `json:"max_tick_lag_ms"`
	} `json:"media"`
	HangupFailed int      `json:"hangup_failed"`
	GenCPUS      float64  `json:"gen_cpu_s"`
	FirstErrors  []string `json:"first_errors,omitempty"`
}

// errorList keeps the first few errors of a run.
type errorList struct {
	mu   sync.Mutex
	n    int
	errs []string
}

func (l *errorList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.errs) < 10 {
		l.errs = append(l.errs, err.Error())
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	out := &reporter{w: stdout}
	sh := &shared{}
	seats := make([]*seatClient, cfg.seats)
	for i := range seats {
		ext := strconv.Itoa(cfg.first + i)
		seats[i] = newSeat(i, ext, cfg.userPrefix+ext, cfg.base, sh)
	}
	defer func() {
		var wg sync.WaitGroup
		for _, s := range seats {
			wg.Go(s.close)
		}
		wg.Wait()
	}()
	sctx, stopSockets := context.WithCancel(ctx)
	defer stopSockets()

	// Sign in, open the sockets and make the offers, a few at a time.
	var errs errorList
	if err := forEach(seats, cfg.concurrency, func(s *seatClient) error {
		if err := s.signIn(ctx, cfg.password); err != nil {
			return err
		}
		if err := s.connect(sctx); err != nil {
			return err
		}
		return s.prepare(ctx)
	}); err != nil {
		return err
	}
	out.event("ready", map[string]any{"seats": cfg.seats})

	// Every seat goes online at once.
	res := result{Event: "result", Seats: cfg.seats}
	took := make([]time.Duration, cfg.seats)
	failed := make([]bool, cfg.seats)
	out.event("online_start", nil)
	start := time.Now()
	var last time.Time
	var lastMu sync.Mutex
	var wg sync.WaitGroup
	for i, s := range seats {
		wg.Go(func() {
			d, err := s.online(ctx, cfg.onlineLimit)
			if err != nil {
				failed[i] = true
				errs.add(err)
				return
			}
			took[i] = d
			lastMu.Lock()
			if at := start.Add(d); at.After(last) {
				last = at
			}
			lastMu.Unlock()
		})
	}
	wg.Wait()
	var ok []time.Duration
	for i := range seats {
		if failed[i] {
			res.OnlineFailed++
		} else {
			ok = append(ok, took[i])
		}
	}
	res.Online = len(ok)
	if res.Online > 0 {
		res.OnlineS = last.Sub(start).Seconds()
		res.OnlineRate = float64(res.Online) / res.OnlineS
		slices.Sort(ok)
		res.OnlineP50, res.OnlineP99 = msOf(nearest(ok, 0.50)), msOf(nearest(ok, 0.99))
		res.OnlineMax = msOf(ok[len(ok)-1])
	}
	out.event("online_end", map[string]any{"online": res.Online, "failed": res.OnlineFailed, "seconds": res.OnlineS})
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Calls at cfg.dialRate, each seat to the next extension in turn.
	mctx, stopMedia := context.WithCancel(ctx)
	waitMedia := pace(mctx, seats)
	talking := make([]bool, cfg.seats)
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.dialRate))
	for i, s := range seats {
		if failed[i] {
			continue
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		wg.Go(func() {
			if err := s.dial(ctx, number(cfg.dialFirst, cfg.dialCount, i), cfg.callLimit); err != nil {
				errs.add(err)
				return
			}
			talking[i] = true
		})
	}
	tick.Stop()
	wg.Wait()
	for i := range seats {
		if talking[i] {
			res.Established++
		} else if !failed[i] {
			res.SetupFailed++
		}
	}
	out.event("established", map[string]any{"established": res.Established, "failed": res.SetupFailed})

	// Let every leg settle, then measure.
	if err := sleep(ctx, cfg.settle); err != nil {
		stopMedia()
		waitMedia()
		return err
	}
	cpu0 := selfCPU()
	sh.winStart.Store(time.Now().UnixNano())
	out.event("window_start", nil)
	if err := sleep(ctx, cfg.window); err != nil {
		stopMedia()
		waitMedia()
		return err
	}
	sh.winEnd.Store(time.Now().UnixNano())
	out.event("window_end", nil)
	res.GenCPUS = (selfCPU() - cpu0).Seconds()
	res.WindowS = cfg.window.Seconds()
	// Packets sent just before the end are still on their way back.
	_ = sleep(ctx, 2*lateAfter+100*time.Millisecond)
	stopMedia()
	maxLag := waitMedia()

	m := &res.Media
	for i, s := range seats {
		m.Sent += s.sentWin.Load()
		m.Received += s.recvWin.Load()
		m.Late += s.late.Load()
		m.Crossed += s.crossed.Load()
		m.SendErrors += s.sendErr.Load()
		m.Foreign += s.foreign.Load()
		if talking[i] && s.got.Load() == 0 {
			m.Deaf++
		}
	}
	if m.Sent > m.Received {
		m.Lost = m.Sent - m.Received
	}
	m.SeatToSIP, m.SIPToSeat, m.RoundTrip = sh.s2p.summary(), sh.p2s.summary(), sh.rtt.summary()
	m.MaxTickLag = msOf(maxLag)

	// Hang up at the dial rate.
	var hangFailed sync.Map
	tick = time.NewTicker(time.Duration(float64(time.Second) / cfg.dialRate))
	for i, s := range seats {
		if !talking[i] {
			continue
		}
		<-tick.C
		wg.Go(func() {
			if err := s.hangup(ctx, cfg.callLimit); err != nil {
				hangFailed.Store(i, true)
				errs.add(err)
			}
		})
	}
	tick.Stop()
	wg.Wait()
	hangFailed.Range(func(any, any) bool { res.HangupFailed++; return true })
	errs.mu.Lock()
	res.FirstErrors = errs.errs
	errs.mu.Unlock()
	out.json(res)
	return nil
}

// forEach runs f on every seat, at most n at once, and returns the first
// error.
func forEach(seats []*seatClient, n int, f func(*seatClient) error) error {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, s := range seats {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(s); err != nil {
				once.Do(func() { first = err })
			}
		})
	}
	wg.Wait()
	return first
}

// pace sends a 20 ms frame on every talking seat every 20 ms, on an
// absolute schedule, from one goroutine per CPU (each owns a share of the
// seats). wait stops them and returns the worst tick lag.
func pace(ctx context.Context, seats []*seatClient) (wait func() time.Duration) {
	n := min(runtime.GOMAXPROCS(0), len(seats))
	lags := make([]time.Duration, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			timer := time.NewTimer(0)
			defer timer.Stop()
			next := time.Now()
			for {
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
				lags[g] = max(lags[g], time.Since(next))
				for i := g; i < len(seats); i += n {
					if seats[i].sending.Load() {
						seats[i].sendFrame()
					}
				}
				next = next.Add(20 * time.Millisecond)
				timer.Reset(time.Until(next))
			}
		})
	}
	return func() time.Duration {
		wg.Wait()
		return slices.Max(lags)
	}
}

// nearest returns the q quantile of sorted, by nearest rank.
func nearest(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// reporter writes JSON lines; the benchmark reads them as they come.
type reporter struct {
	mu sync.Mutex
	w  io.Writer
}

func (r *reporter) json(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = fmt.Appendf(nil, `{"event":"error","error":%q}`, err.Error())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(append(b, '\n'))
}

// event writes {"event": name, ...fields}.
func (r *reporter) event(name string, fields map[string]any) {
	v := map[string]any{"event": name}
	for k, f := range fields {
		v[k] = f
	}
	r.json(v)
}

// selfCPU is this process's user + system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
