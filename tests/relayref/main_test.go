package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"defaults and a file", []string{"-ports", "/tmp/p"}, false},
		{"all", []string{"-ip", "127.0.0.1", "-pairs", "3", "-ports", "/tmp/p", "-rtp-ports", "30000-30099"}, false},
		{"no ports file", []string{"-pairs", "3"}, true},
		{"no pairs", []string{"-pairs", "0", "-ports", "/tmp/p"}, true},
		{"bad address", []string{"-ip", "localhost", "-ports", "/tmp/p"}, true},
		{"bad range", []string{"-rtp-ports", "30000", "-ports", "/tmp/p"}, true},
		{"unknown flag", []string{"-calls", "3"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != (err != nil) || (err != nil && !errors.Is(err, errUsage)) {
				t.Fatalf("parseFlags(%q): %v; want error %v (errUsage)", tt.args, err, tt.wantErr)
			}
		})
	}
}

// rtpPacket is a PCMU packet with the given SSRC, sequence and payload.
func rtpPacket(ssrc uint32, seq uint16, payload string) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0] = 0x80 // V=2, PT 0
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

// TestRunRelaysPairs runs the relay on loopback: each pair's legs hear
// each other once both have sent (symmetric RTP), with the payload
// untouched and the SSRC the relay's own.
func TestRunRelaysPairs(t *testing.T) {
	ports := filepath.Join(t.TempDir(), "ports")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-ip", "127.0.0.1", "-pairs", "2", "-ports", ports, "-rtp-ports", "31000-31999"}, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	var data []byte
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; <-tick.C {
		var err error
		if data, err = os.ReadFile(ports); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ports file: %v", err)
		}
	}
	var pairs [2][2]int
	if _, err := fmt.Sscanf(string(data), "%d %d\n%d %d\n", &pairs[0][0], &pairs[0][1], &pairs[1][0], &pairs[1][1]); err != nil {
		t.Fatalf("ports file %q: %v", data, err)
	}
	for i, p := range pairs {
		t.Run(fmt.Sprint("pair ", i), func(t *testing.T) {
			var legs [2]*net.UDPConn
			for k := range legs {
				c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(2+k))})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				legs[k] = c
			}
			to := func(k int) *net.UDPAddr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p[k]} }
			payload := [2]string{"from a", "from b"}
			// A leg's packets go nowhere until the other leg has sent
			// (nothing is latched yet), and which socket the relay reads
			// first is its business: both legs send each round until
			// each has heard the other, a bounded number of rounds.
			var heard [2]bool
			for round := 0; round < 50 && !(heard[0] && heard[1]); round++ {
				for k, c := range legs {
					if _, err := c.WriteToUDP(rtpPacket(0x1000+uint32(k), uint16(round), payload[k]), to(k)); err != nil {
						t.Fatal(err)
					}
				}
				for k, c := range legs {
					if heard[k] {
						continue
					}
					_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
					buf := make([]byte, 2048)
					n, err := c.Read(buf)
					if err != nil {
						continue // a timeout: not relayed yet
					}
					got := buf[:n]
					if len(got) < 12 || !bytes.Equal(got[12:], []byte(payload[1-k])) {
						t.Fatalf("leg %d got %q; want payload %q", k, got, payload[1-k])
					}
					if ssrc := binary.BigEndian.Uint32(got[8:]); ssrc == 0x1000+uint32(1-k) {
						t.Errorf("leg %d: SSRC %#x passed through; want the relay's own", k, ssrc)
					}
					heard[k] = true
				}
			}
			if !heard[0] || !heard[1] {
				t.Fatalf("legs heard each other: %v; want both", heard)
			}
		})
	}
}
