package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParsePortsFile(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []portPair
		wantErr bool
	}{
		{"one pair", "20000 20002\n", []portPair{{20000, 20002}}, false},
		{"several, odd ports and tabs", "1 65535\n40001\t40003\n", []portPair{{1, 65535}, {40001, 40003}}, false},
		{"empty", "", nil, true},
		{"half-written last line", "20000 20002\n20004 200", nil, true},
		{"blank line", "20000 20002\n\n", nil, true},
		{"one port", "20000\n", nil, true},
		{"three ports", "20000 20002 20004\n", nil, true},
		{"port zero", "0 20002\n", nil, true},
		{"port too big", "20000 65536\n", nil, true},
		{"signed", "+20000 20002\n", nil, true},
		{"not a number", "a b\n", nil, true},
		{"a port twice in a pair", "20000 20000\n", nil, true},
		{"a port in two pairs", "20000 20002\n20002 20004\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePortsFile([]byte(tt.data))
			if tt.wantErr {
				if !errors.Is(err, errPortsFile) {
					t.Fatalf("parsePortsFile(%q) = %v, %v; want errPortsFile", tt.data, got, err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("parsePortsFile(%q) = %v, %v; want %v", tt.data, got, err, tt.want)
			}
		})
	}
}

func TestParsePortsFileBound(t *testing.T) {
	var b bytes.Buffer
	for i := range maxPairs + 1 {
		fmt.Fprintf(&b, "%d %d\n", 1+i%32000, 32001+i%32000) // repeats fail later than the bound
	}
	if _, err := parsePortsFile(b.Bytes()); !errors.Is(err, errPortsFile) {
		t.Fatalf("%d pairs: err %v; want errPortsFile", maxPairs+1, err)
	}
}

func FuzzParsePortsFile(f *testing.F) {
	f.Add([]byte("20000 20002\n20004 20006\n"))
	f.Add([]byte("1 65535\n"))
	f.Add([]byte("20000 20002\n200"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs, err := parsePortsFile(b)
		if err != nil {
			return
		}
		if len(pairs) == 0 || len(pairs) > maxPairs {
			t.Fatalf("accepted %q with %d pairs", b, len(pairs))
		}
		seen := map[int]bool{}
		var again bytes.Buffer
		for _, p := range pairs {
			for _, port := range []int{p.a, p.b} {
				if port < 1 || port > 65535 || seen[port] {
					t.Fatalf("accepted %q: port %d", b, port)
				}
				seen[port] = true
			}
			fmt.Fprintf(&again, "%d %d\n", p.a, p.b)
		}
		if back, err := parsePortsFile(again.Bytes()); err != nil || fmt.Sprint(back) != fmt.Sprint(pairs) {
			t.Fatalf("%q read as %v, written back and read as %v, %v", b, pairs, back, err)
		}
	})
}

func TestReadPortsFile(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		_, err := readPortsFile(context.Background(), filepath.Join(t.TempDir(), "none"), 3*portsPoll)
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err %v; want os.ErrNotExist", err)
		}
	})
	t.Run("half-written, then whole", func(t *testing.T) {
		name := filepath.Join(t.TempDir(), "ports")
		if err := os.WriteFile(name, []byte("20000 20002\n2000"), 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan []portPair, 1)
		errc := make(chan error, 1)
		go func() {
			p, err := readPortsFile(context.Background(), name, 10*time.Second)
			done <- p
			errc <- err
		}()
		// The reader cannot accept the half line: whatever it returns is
		// the whole file.
		if err := os.WriteFile(name, []byte("20000 20002\n20004 20006\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := <-done, <-errc
		if err != nil || len(got) != 2 || got[1] != (portPair{20004, 20006}) {
			t.Fatalf("readPortsFile = %v, %v; want both pairs", got, err)
		}
	})
	t.Run("malformed for good", func(t *testing.T) {
		name := filepath.Join(t.TempDir(), "ports")
		if err := os.WriteFile(name, []byte("x y\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readPortsFile(context.Background(), name, 3*portsPoll); !errors.Is(err, errPortsFile) {
			t.Fatalf("err %v; want errPortsFile", err)
		}
	})
}

// loopRelay is a minimal symmetric relay on loopback for the end-to-end
// test of runPairs: each socket latches its sender and what it receives
// goes out of the paired socket to that socket's latched sender.
type loopRelay struct {
	conns  []*net.UDPConn
	peers  []atomic.Pointer[net.UDPAddr]
	wg     sync.WaitGroup
	ported string
}

func newLoopRelay(t *testing.T, pairs int) *loopRelay {
	t.Helper()
	r := &loopRelay{peers: make([]atomic.Pointer[net.UDPAddr], 2*pairs)}
	var b strings.Builder
	for i := range 2 * pairs {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		r.conns = append(r.conns, c)
		if i%2 == 1 {
			fmt.Fprintf(&b, "%d %d\n", r.conns[i-1].LocalAddr().(*net.UDPAddr).Port, c.LocalAddr().(*net.UDPAddr).Port)
		}
	}
	r.ported = b.String()
	for i, c := range r.conns {
		r.wg.Go(func() {
			buf := make([]byte, 2048)
			for {
				n, from, err := c.ReadFromUDP(buf)
				if err != nil {
					return // closed
				}
				r.peers[i].Store(from)
				if to := r.peers[i^1].Load(); to != nil {
					_, _ = r.conns[i^1].WriteToUDP(buf[:n], to)
				}
			}
		})
	}
	return r
}

func (r *loopRelay) close() {
	for _, c := range r.conns {
		c.Close()
	}
	r.wg.Wait()
}

// TestRunPairs drives a loopback relay with the pairs command: every pair
// must carry audio both ways, each leg hearing only its partner.
func TestRunPairs(t *testing.T) {
	const pairs = 4
	relay := newLoopRelay(t, pairs)
	defer relay.close()
	name := filepath.Join(t.TempDir(), "ports")
	if err := os.WriteFile(name, []byte(relay.ported), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg := pairsConfig{relayIP: "127.0.0.1", portsFile: name, wait: time.Second, callerIP: "127.0.0.2",
		calleeIP: "127.0.0.3", settle: 200 * time.Millisecond, window: 400 * time.Millisecond}
	if err := runPairs(context.Background(), cfg, &reporter{w: &out}); err != nil {
		t.Fatal(err)
	}
	var events []string
	var res pairsResult
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		var ev struct{ Event string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		events = append(events, ev.Event)
		if ev.Event == "result" {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatalf("result %q: %v", line, err)
			}
		}
	}
	want := "ports_read established window_start window_end result"
	if got := strings.Join(events, " "); got != want {
		t.Fatalf("events %q; want %q", got, want)
	}
	m := res.Media
	// Routing is what is checked, not loss: a loaded test machine may
	// hold a packet past the grace after the window.
	if res.Established != pairs || m.Received == 0 || m.Received > m.Sent || m.Crossed != 0 || m.Deaf != 0 ||
		res.Diag.ProblemLegs != 0 {
		t.Fatalf("result %+v; want %d pairs, packets back on every leg, none crossed or deaf", res, pairs)
	}
}
