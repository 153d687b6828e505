package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/pbx/call"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// TrunkKind says how a carrier knows the box.
type TrunkKind uint8

// Trunk kinds. The zero value is TrunkKindUnknown.
const (
	TrunkKindUnknown TrunkKind = iota
	// TrunkRegister: the box registers with the carrier (REGISTER with
	// digest) and the carrier sends calls to the registered contact.
	TrunkRegister
	// TrunkIP: no registration; calls are accepted from the trunk's
	// addresses only.
	TrunkIP
)

// ErrUnknownTrunkKind is returned by ParseTrunkKind for a name that is not
// register or ip.
var ErrUnknownTrunkKind = errors.New("unknown trunk kind")

// String returns the configuration name: "register" or "ip".
func (k TrunkKind) String() string {
	switch k {
	case TrunkRegister:
		return "register"
	case TrunkIP:
		return "ip"
	}
	return "unknown"
}

// ParseTrunkKind reads "register" or "ip".
func ParseTrunkKind(s string) (TrunkKind, error) {
	switch s {
	case "register":
		return TrunkRegister, nil
	case "ip":
		return TrunkIP, nil
	}
	return TrunkKindUnknown, fmt.Errorf("trunk kind %q: %w", s, ErrUnknownTrunkKind)
}

// CalledSource is where a trunk's inbound calls carry the called number.
type CalledSource uint8

// Called-number sources. The zero value reads the Request-URI.
const (
	CalledFromRURI CalledSource = iota
	CalledFromTo
	CalledFromDiversion
)

// ErrUnknownNumberSource is returned by ParseCalledSource and
// ParseCallerSource for a name they do not know.
var ErrUnknownNumberSource = errors.New("unknown number source")

// String returns the configuration name: "ruri", "to" or "diversion".
func (s CalledSource) String() string {
	switch s {
	case CalledFromTo:
		return "to"
	case CalledFromDiversion:
		return "diversion"
	}
	return "ruri"
}

// ParseCalledSource reads "ruri" (or ""), "to" or "diversion".
func ParseCalledSource(s string) (CalledSource, error) {
	switch s {
	case "", "ruri":
		return CalledFromRURI, nil
	case "to":
		return CalledFromTo, nil
	case "diversion":
		return CalledFromDiversion, nil
	}
	return CalledFromRURI, fmt.Errorf("called number source %q: %w", s, ErrUnknownNumberSource)
}

// CallerSource is where a trunk's inbound calls carry the caller's number.
type CallerSource uint8

// Caller-number sources. The zero value reads From.
const (
	CallerFromFrom CallerSource = iota
	CallerFromPAI
)

// String returns the configuration name: "from" or "pai".
func (s CallerSource) String() string {
	if s == CallerFromPAI {
		return "pai"
	}
	return "from"
}

// ParseCallerSource reads "from" (or "") or "pai".
func ParseCallerSource(s string) (CallerSource, error) {
	switch s {
	case "", "from":
		return CallerFromFrom, nil
	case "pai":
		return CallerFromPAI, nil
	}
	return CallerFromFrom, fmt.Errorf("caller number source %q: %w", s, ErrUnknownNumberSource)
}

// TrunkConfig is one carrier connection as pbx/sip needs it; the appliance
// builds it from the stored trunk (secret decrypted, defaults left zero).
type TrunkConfig struct {
	// Name identifies the trunk in status, metrics and logs.
	Name string
	Kind TrunkKind
	// Host is the carrier's registrar/proxy: a name or an IP.
	Host string
	// Port is the carrier's port. Zero: 5060 (5061 for TLS).
	Port int
	// Transport is how requests to the carrier leave. Zero: UDP.
	Transport Transport
	// Username is the account at the carrier: the user of our From/To on
	// REGISTER and of the Contact the carrier sends calls to.
	Username string
	// AuthUsername is the digest username when it differs from Username.
	AuthUsername string
	// Secret is the digest password, in the clear (kept encrypted at rest).
	Secret string
	// Realm restricts which challenge realm is answered; empty: whichever
	// the carrier names.
	Realm string
	// FromDomain is the host of our From/To; empty: Host.
	FromDomain string
	// Expires is the registration lifetime asked for. Zero: 300 s.
	Expires time.Duration
	// Addresses are the networks calls from this trunk come from. Empty:
	// Host's resolved addresses.
	Addresses []netip.Prefix
	// OptionsInterval is the keep-alive period. Zero: 30 s.
	OptionsInterval time.Duration
	// CalledFrom and CallerFrom say where inbound calls carry the numbers.
	CalledFrom CalledSource
	CallerFrom CallerSource
	// Codecs offered and accepted on the trunk's calls, in preference order.
	Codecs []codec.Codec
	// DTMFMode of the trunk's legs.
	DTMFMode call.DTMFMode
	// MaxCalls bounds the trunk's concurrent calls (both directions). Zero: no limit.
	MaxCalls int
	// CallsPerMinute bounds the calls the trunk starts in any minute (both
	// directions): a dialer gone wild or a flood from the carrier stops
	// there. Zero: no limit.
	CallsPerMinute int
}

func (c TrunkConfig) withDefaults() TrunkConfig {
	if c.Transport == TransportUnknown {
		c.Transport = TransportUDP
	}
	if c.Port <= 0 {
		c.Port = 5060
		if c.Transport == TransportTLS {
			c.Port = 5061
		}
	}
	if c.Expires <= 0 {
		c.Expires = 300 * time.Second
	}
	if c.OptionsInterval <= 0 {
		c.OptionsInterval = 30 * time.Second
	}
	return c
}

// hostPort is where requests to the carrier go.
func (c TrunkConfig) hostPort() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// equal reports whether two configurations need no restart between them.
func (c TrunkConfig) equal(o TrunkConfig) bool {
	return c.Name == o.Name && c.Kind == o.Kind && c.Host == o.Host && c.Port == o.Port &&
		c.Transport == o.Transport && c.Username == o.Username && c.AuthUsername == o.AuthUsername &&
		c.Secret == o.Secret && c.Realm == o.Realm && c.FromDomain == o.FromDomain &&
		c.Expires == o.Expires && slices.Equal(c.Addresses, o.Addresses) &&
		c.OptionsInterval == o.OptionsInterval && c.CalledFrom == o.CalledFrom &&
		c.CallerFrom == o.CallerFrom && slices.Equal(c.Codecs, o.Codecs) &&
		c.DTMFMode == o.DTMFMode && c.MaxCalls == o.MaxCalls && c.CallsPerMinute == o.CallsPerMinute
}

// TrunkStatus is what the API shows of a trunk.
type TrunkStatus struct {
	Name string
	Kind TrunkKind
	// Registered: the carrier accepted our last REGISTER and it has not
	// lapsed (always false for IP trunks).
	Registered      bool
	RegisteredUntil time.Time
	// LastError is the last registration failure ("503 Service
	// Unavailable", "no response"...), cleared by a success.
	LastError string
	// Up: the carrier answered one of the last OptionsMisses OPTIONS.
	Up bool
	// LastChange is when Registered or Up last changed.
	LastChange  time.Time
	CallsActive int
}

// usable is what pbx_trunk_up reports: reachable, and registered when the
// trunk registers.
func (s TrunkStatus) usable() bool {
	return s.Up && (s.Kind != TrunkRegister || s.Registered)
}

// TrunkOptions are the trunks' dependencies and timers. Zero durations take
// the defaults written on each field.
type TrunkOptions struct {
	Log        *slog.Logger          // required
	Registerer prometheus.Registerer // required
	// Now is the clock for status times; nil: time.Now.
	Now func() time.Time
	// OnChange is told every status change (registration, reachability,
	// last error). It must not block; nil: nothing is told.
	OnChange func(TrunkStatus)
	// Advertise is the address carriers reach the box at, written in our
	// Contact. Zero: the listener's address, or the local address the
	// kernel would use towards the carrier when listening on all addresses.
	Advertise netip.Addr
	// RetryMin is the first wait after a failed registration; each further
	// failure doubles it up to RetryMax. Zero: 5 s and 5 min.
	RetryMin time.Duration
	RetryMax time.Duration
	// Timeout bounds one request (REGISTER or OPTIONS) to a carrier.
	// Zero: 5 s (OPTIONS get at most their interval).
	Timeout time.Duration
	// OptionsMisses unanswered OPTIONS in a row mark a trunk down. Zero: 3.
	OptionsMisses int
}

func (o TrunkOptions) withDefaults() TrunkOptions {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 5 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.OptionsMisses <= 0 {
		o.OptionsMisses = 3
	}
	return o
}

// ErrNoSuchTrunk is returned for a trunk name that Set did not configure.
var ErrNoSuchTrunk = errors.New("sip: no such trunk")

// ErrTrunkFull is returned by BeginCall when the trunk is at its MaxCalls.
var ErrTrunkFull = errors.New("sip: trunk at its call limit")

// ErrTrunksClosed is returned by BeginCall after Close.
var ErrTrunksClosed = errors.New("sip: trunks closed")

// Trunks keeps the box's carrier connections: per trunk a registration loop
// (registration trunks) and an OPTIONS keep-alive loop, the status, the
// inbound match and the call counters.
type Trunks struct {
	srv     *Server
	opts    TrunkOptions
	log     *slog.Logger
	metrics *trunkMetrics

	mu     sync.Mutex
	trunks map[string]*trunk
	closed bool
	// starts are each trunk's call start times in the last minute, by
	// name (kept across configuration changes), for CallsPerMinute.
	starts map[string][]time.Time

	trace tracer // SIP trace on demand; its own lock
}

// trunk is one configured trunk and its running loops.
type trunk struct {
	cfg    TrunkConfig
	cancel context.CancelFunc
	done   chan struct{} // closed once the loops stopped (and unregistered)

	// Guarded by Trunks.mu.
	status TrunkStatus
	// calls counts calls in progress; a replacement (Set with a changed
	// configuration) shares it, since the calls outlive the restart.
	calls    *int
	resolved []netip.Addr // Host's addresses, once looked up
	misses   int
}

// NewTrunks builds the trunk manager on a server. Trunks start with Set;
// their loops send through the server and wait for it to serve. Call
// Close before the server's Run ends: unregistering needs the transports.
func NewTrunks(srv *Server, opts TrunkOptions) (*Trunks, error) {
	if opts.Log == nil {
		return nil, fmt.Errorf("Log: %w", ErrMissingDependency)
	}
	if opts.Registerer == nil {
		return nil, fmt.Errorf("Registerer: %w", ErrMissingDependency)
	}
	opts = opts.withDefaults()
	m, err := newTrunkMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("trunk metrics: %w", err)
	}
	return &Trunks{srv: srv, opts: opts, log: opts.Log.With("component", "trunks"), metrics: m,
		trunks: map[string]*trunk{}}, nil
}

// Set makes cfgs the running trunks: new ones start, removed ones stop
// (registration trunks unregister), changed ones restart. Unchanged ones
// keep running undisturbed. It does not wait for carriers.
func (t *Trunks) Set(cfgs []TrunkConfig) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	want := make(map[string]TrunkConfig, len(cfgs))
	for _, c := range cfgs {
		want[c.Name] = c.withDefaults()
	}
	old := t.trunks
	t.trunks = make(map[string]*trunk, len(want))
	for name, tr := range old {
		c, keep := want[name]
		if keep && c.equal(tr.cfg) {
			t.trunks[name] = tr
			continue
		}
		tr.cancel()
		if !keep {
			t.metrics.forget(name)
			t.log.Info("trunk removed", "trunk", name)
			continue
		}
		// A replacement waits for tr.done: the old loop's unregister must
		// not remove the new registration of the same contact.
		t.startLocked(c, tr.done, tr.calls)
	}
	for name, c := range want {
		if _, ok := t.trunks[name]; !ok {
			t.startLocked(c, nil, new(int))
		}
	}
}

// startLocked starts a trunk's loops once after (if not nil) is closed.
func (t *Trunks) startLocked(c TrunkConfig, after <-chan struct{}, calls *int) {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &trunk{cfg: c, cancel: cancel, done: make(chan struct{}), calls: calls,
		status: TrunkStatus{Name: c.Name, Kind: c.Kind, LastChange: t.opts.Now()}}
	if a, err := netip.ParseAddr(c.Host); err == nil {
		tr.resolved = []netip.Addr{a.Unmap()}
	}
	t.trunks[c.Name] = tr
	t.metrics.up.WithLabelValues(c.Name).Set(0)
	t.metrics.active.WithLabelValues(c.Name).Set(float64(*calls))
	log := t.log.With("trunk", c.Name)
	log.Info("trunk started", "kind", c.Kind.String(), "host", c.hostPort(), "transport", c.Transport.String())
	go func() {
		defer close(tr.done)
		if after != nil {
			<-after
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); t.optionsLoop(ctx, tr, log) }()
		if c.Kind == TrunkRegister {
			t.registerLoop(ctx, tr, log)
		}
		wg.Wait()
	}()
}

// Close stops every trunk, unregistering registration trunks, and waits
// for them (each unregister is bounded by TrunkOptions.Timeout).
func (t *Trunks) Close() {
	t.mu.Lock()
	t.closed = true
	var dones []chan struct{}
	for name, tr := range t.trunks {
		tr.cancel()
		dones = append(dones, tr.done)
		delete(t.trunks, name)
		t.metrics.forget(name)
	}
	t.mu.Unlock()
	for _, d := range dones {
		<-d
	}
}

// Status returns every trunk's status, by name.
func (t *Trunks) Status() []TrunkStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TrunkStatus, 0, len(t.trunks))
	for _, tr := range t.trunks {
		out = append(out, tr.statusLocked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TrunkStatus returns one trunk's status.
func (t *Trunks) TrunkStatus(name string) (TrunkStatus, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.trunks[name]
	if !ok {
		return TrunkStatus{}, false
	}
	return tr.statusLocked(), true
}

func (tr *trunk) statusLocked() TrunkStatus {
	s := tr.status
	s.CallsActive = *tr.calls
	return s
}

// Config returns a running trunk's configuration (defaults applied), for
// the call layer: codecs, DTMF mode, number sources.
func (t *Trunks) Config(name string) (TrunkConfig, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.trunks[name]
	if !ok {
		return TrunkConfig{}, false
	}
	return tr.cfg, true
}

// update changes tr's status under the lock, then publishes it when it
// changed: the gauge, a log line and OnChange.
func (t *Trunks) update(tr *trunk, f func(s *TrunkStatus)) {
	t.mu.Lock()
	before := tr.statusLocked()
	f(&tr.status)
	after := tr.statusLocked()
	current := t.trunks[tr.cfg.Name] == tr
	if after.Registered != before.Registered || after.Up != before.Up {
		tr.status.LastChange = t.opts.Now()
		after = tr.statusLocked()
	}
	if current {
		t.metrics.up.WithLabelValues(tr.cfg.Name).Set(boolGauge(after.usable()))
	}
	t.mu.Unlock()
	if !current {
		return // removed or replaced: its status is no longer anyone's
	}
	if after.Registered == before.Registered && after.Up == before.Up && after.LastError == before.LastError {
		return
	}
	t.log.Info("trunk status", "trunk", after.Name, "registered", after.Registered, "up", after.Up,
		"last_error", after.LastError)
	if t.opts.OnChange != nil {
		t.opts.OnChange(after)
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// do sends req to the trunk's carrier from the server's sockets and
// returns the final response.
func (t *Trunks) do(ctx context.Context, c TrunkConfig, req *sip.Request) (*sip.Response, error) {
	tx, err := t.srv.Request(ctx, Binding{Source: c.hostPort(), Transport: c.Transport}, req)
	if err != nil {
		return nil, err
	}
	return finalResponse(ctx, tx)
}

// errNoResponse stands for a request that was never answered.
var errNoResponse = errors.New("no response")

// waitServing waits until the server listens on tr's transport (the
// Contact needs the port), polling until ctx ends.
func (t *Trunks) waitServing(ctx context.Context, tr Transport) bool {
	for !t.srv.listenAddr(tr).IsValid() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond): // the server pools its socket within milliseconds of Run
		}
	}
	return true
}

// local is our address and port towards the trunk's carrier, for Contact
// and From.
func (t *Trunks) local(c TrunkConfig, peer []netip.Addr) (netip.Addr, int) {
	la := t.srv.listenAddr(c.Transport)
	if t.opts.Advertise.IsValid() {
		return t.opts.Advertise, int(la.Port())
	}
	if la.IsValid() && !la.Addr().IsUnspecified() {
		return la.Addr(), int(la.Port())
	}
	if len(peer) > 0 {
		// Ask the kernel which source address it would use (no packet is sent).
		conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer[0], 9)))
		if err == nil {
			defer conn.Close()
			if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
				if ip, ok := netip.AddrFromSlice(a.IP); ok {
					return ip.Unmap(), int(la.Port())
				}
			}
		}
	}
	return la.Addr(), int(la.Port())
}

// resolve looks the trunk's host up again (names only) so Match and the
// Contact follow DNS changes; a failed lookup keeps the last addresses.
func (t *Trunks) resolve(ctx context.Context, tr *trunk) []netip.Addr {
	if _, err := netip.ParseAddr(tr.cfg.Host); err != nil {
		ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", tr.cfg.Host)
		cancel()
		if err == nil && len(addrs) > 0 {
			for i := range addrs {
				addrs[i] = addrs[i].Unmap()
			}
			t.mu.Lock()
			tr.resolved = addrs
			t.mu.Unlock()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(tr.resolved)
}
