package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ccbox/ccbox/config"
	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/rtp"
	"github.com/prometheus/client_golang/prometheus"
)

// mediaTimeout is the default of config's media_timeout, armed on every
// endpoint as a call arms it; it never fires while the generator sends.
const mediaTimeout = 60 * time.Second

// errUsage is returned for bad flags.
var errUsage = errors.New("usage: relayref -ip IP -pairs N -ports FILE -rtp-ports FIRST-LAST")

// relayConfig is relayref's settings.
type relayConfig struct {
	ip        netip.Addr
	pairs     int
	portsFile string
	ports     config.PortRange
	loops     int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "relayref:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (relayConfig, error) {
	var c relayConfig
	fs := flag.NewFlagSet("relayref", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ip := fs.String("ip", "127.0.0.1", "address every endpoint binds")
	fs.IntVar(&c.pairs, "pairs", 500, "bridged endpoint pairs")
	fs.StringVar(&c.portsFile, "ports", "", "file to write \"portA portB\" per pair to")
	rng := fs.String("rtp-ports", "20000-29999", "the PortPool's range (RTP on even ports, RTCP above each)")
	fs.IntVar(&c.loops, "loops", 0, "relay loops (0: the pool's default, one per core up to 4)")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("%w: %w", errUsage, err)
	}
	a, err := netip.ParseAddr(*ip)
	if err != nil {
		return c, fmt.Errorf("%w: -ip: %w", errUsage, err)
	}
	c.ip = a
	if c.ports, err = config.ParsePortRange(*rng); err != nil {
		return c, fmt.Errorf("%w: -rtp-ports: %w", errUsage, err)
	}
	if c.pairs < 1 || c.portsFile == "" {
		return c, fmt.Errorf("%w: -pairs must be positive and -ports given", errUsage)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	metrics, err := rtp.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return err
	}
	pool, err := rtp.NewPortPool(rtp.PoolConfig{IP: cfg.ip, Ports: cfg.ports, Metrics: metrics, Log: log, Loops: cfg.loops})
	if err != nil {
		return err
	}
	var (
		eps      []*rtp.Endpoint
		lines    strings.Builder
		timeouts atomic.Int64
	)
	// Shutdown order: unbridge every pair before closing its endpoints,
	// as a call does, so no loop relays into a closed endpoint.
	defer func() {
		for i := 0; i+1 < len(eps); i += 2 {
			rtp.Unbridge(eps[i], eps[i+1])
		}
		for _, e := range eps {
			_ = e.Close()
		}
	}()
	for range cfg.pairs {
		var pair [2]*rtp.Endpoint
		for k := range pair {
			e, err := pool.Allocate()
			if err != nil {
				return fmt.Errorf("endpoint %d: %w", len(eps), err)
			}
			eps = append(eps, e)
			// What a call does for a leg whose SDP offered PCMU alone
			// (pbx/sip: SetCodec, then listenDTMF's event hook and the
			// media timeout).
			e.SetCodec(codec.PCMU, 0, false)
			e.OnEvent(func(*rtp.Packet) {})
			e.SetTimeout(mediaTimeout, func() { timeouts.Add(1) })
			pair[k] = e
		}
		rtp.Bridge(pair[0], pair[1])
		fmt.Fprintf(&lines, "%d %d\n", pair[0].LocalAddr().Port(), pair[1].LocalAddr().Port())
	}
	if err := writeWhole(cfg.portsFile, []byte(lines.String())); err != nil {
		return err
	}
	<-ctx.Done()
	if n := timeouts.Load(); n > 0 {
		log.Warn("media timeouts fired", "endpoints", n)
	}
	return nil
}

// writeWhole writes data to name through a file beside it and a rename, so
// a reader polling for name finds all of it or nothing.
func writeWhole(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}
