package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpload:", err)
		os.Exit(1)
	}
}

// errUsage is returned for a missing or unknown subcommand or a bad flag.
var errUsage = fmt.Errorf("usage: rtpload calls|register|echo|pairs [flags]")

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	out := &reporter{w: stdout}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	server := fs.String("server", "127.0.0.1:5060", "the box's SIP UDP address")
	prefix := fs.String("secret-prefix", "bench-secret-", "an extension's secret is this prefix and its number")
	alg := fs.String("algorithm", "MD5", "digest algorithm: MD5 or SHA-256")
	timeout := fs.Duration("timeout", 10*time.Second, "bound of one SIP transaction")
	switch args[0] {
	case "calls":
		var c callsConfig
		fs.StringVar(&c.callerIP, "caller-ip", "127.0.0.2", "address of the calling side (SIP and RTP)")
		fs.StringVar(&c.calleeIP, "callee-ip", "127.0.0.3", "address of the answering side")
		fs.IntVar(&c.calls, "calls", 100, "concurrent calls")
		fs.Float64Var(&c.rate, "rate", 100, "call attempts (and hang-ups) per second")
		fs.IntVar(&c.callerFirst, "caller-first", 2001, "first caller extension")
		fs.IntVar(&c.callerCount, "caller-count", 10, "caller extensions, used in turn")
		fs.IntVar(&c.calleeFirst, "callee-first", 3001, "first callee extension")
		fs.IntVar(&c.calleeCount, "callee-count", 10, "callee extensions, used in turn")
		fs.DurationVar(&c.settle, "settle", 2*time.Second, "wait after the last call is up, before measuring")
		fs.DurationVar(&c.window, "window", 20*time.Second, "the measured window")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		addr, err := serverAddr(*server)
		if err != nil {
			return err
		}
		c.server, c.prefix, c.algorithm, c.timeout = addr, *prefix, *alg, *timeout
		if c.calls < 1 || c.rate <= 0 || c.callerCount < 1 || c.calleeCount < 1 {
			return fmt.Errorf("%w: -calls, -rate and the counts must be positive", errUsage)
		}
		return runCalls(ctx, c, out)
	case "register":
		var r registerConfig
		ips := fs.String("ips", "127.0.0.2", "comma-separated endpoint addresses, used in turn")
		fs.IntVar(&r.first, "first", 10000, "first extension number")
		fs.IntVar(&r.count, "count", 10000, "endpoints")
		fs.IntVar(&r.expires, "expires", 120, "Expires of each REGISTER, seconds")
		fs.DurationVar(&r.refresh, "refresh", time.Minute, "each endpoint re-registers this often")
		fs.DurationVar(&r.spread, "spread", time.Minute, "the first registrations are spread over this")
		fs.DurationVar(&r.window, "window", time.Minute, "the measured window, after the first registrations")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		addr, err := serverAddr(*server)
		if err != nil {
			return err
		}
		r.server, r.prefix, r.algorithm, r.timeout = addr, *prefix, *alg, *timeout
		r.ips = strings.Split(*ips, ",")
		if r.count < 1 || r.refresh <= 0 {
			return fmt.Errorf("%w: -count and -refresh must be positive", errUsage)
		}
		return runRegister(ctx, r, out)
	case "echo":
		var e echoConfig
		fs.StringVar(&e.ip, "ip", "127.0.0.3", "address of the answering phones (SIP and RTP)")
		fs.IntVar(&e.first, "first", 3001, "first extension registered")
		fs.IntVar(&e.count, "count", 20, "extensions registered")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		addr, err := serverAddr(*server)
		if err != nil {
			return err
		}
		e.server, e.prefix, e.algorithm, e.timeout = addr, *prefix, *alg, *timeout
		if e.count < 1 {
			return fmt.Errorf("%w: -count must be positive", errUsage)
		}
		return runEcho(ctx, e, out)
	case "pairs":
		p := pairsConfig{wait: defaultPortsWait}
		fs.StringVar(&p.relayIP, "relay-ip", "127.0.0.1", "address of the relay's ports")
		fs.StringVar(&p.portsFile, "ports", "", "the file the relay writes: \"portA portB\" per pair")
		fs.StringVar(&p.callerIP, "caller-ip", "127.0.0.2", "address of the A legs")
		fs.StringVar(&p.calleeIP, "callee-ip", "127.0.0.3", "address of the B legs")
		fs.DurationVar(&p.settle, "settle", 2*time.Second, "wait after media starts, before measuring")
		fs.DurationVar(&p.window, "window", 20*time.Second, "the measured window")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		if p.portsFile == "" {
			return fmt.Errorf("%w: -ports is required", errUsage)
		}
		return runPairs(ctx, p, out)
	}
	return errUsage
}

func serverAddr(s string) (*net.UDPAddr, error) {
	a, err := net.ResolveUDPAddr("udp4", s)
	if err != nil {
		return nil, fmt.Errorf("%w: -server: %w", errUsage, err)
	}
	return a, nil
}

// reporter writes JSON lines; the benchmarks read them as they come.
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
