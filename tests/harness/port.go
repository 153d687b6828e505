package harness

import (
	"net"
	"testing"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago: it
// listens on port 0 and closes. Another process can take it before the
// caller binds it; on loopback in a test run that is rare enough.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1, false)[0]
}

// FreeUDPPort is FreePort for UDP.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free UDP port: %v", err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// FreePorts returns n distinct ports on 127.0.0.1, each free for TCP and,
// when udp is true, for UDP as well (SIP listens on both). It holds every
// port until all are found, so they differ from each other.
func FreePorts(t testing.TB, n int, udp bool) []int {
	t.Helper()
	const attempts = 50
	var (
		held  []func()
		ports []int
	)
	defer func() {
		for _, release := range held {
			release()
		}
	}()
	for try := 0; len(ports) < n; try++ {
		if try == attempts {
			t.Fatalf("no free loopback port after %d attempts", attempts)
		}
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if !udp {
			held = append(held, func() { ln.Close() })
			ports = append(ports, port)
			continue
		}
		pc, err := net.ListenPacket("udp4", ln.Addr().String())
		if err != nil {
			// The UDP side of this port is taken: try another one.
			ln.Close()
			continue
		}
		held = append(held, func() { ln.Close(); pc.Close() })
		ports = append(ports, port)
	}
	return ports
}
