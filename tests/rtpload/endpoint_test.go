package main

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// TestEndpointResponsesKeepTheirBodies sends an endpoint two 200s back to
// back, their SDP at the same offset, and reads the first only after the
// second has been read: the first must still carry its own SDP. (A body
// sharing the endpoint's read buffer took the second's: two calls sent
// their audio to one of the box's ports, and the other call's legs heard
// nothing.)
func TestEndpointResponsesKeepTheirBodies(t *testing.T) {
	box, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	ep, err := newEndpoint("127.0.0.1", box.LocalAddr().(*net.UDPAddr), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.close()
	go ep.run()

	tests := []struct {
		branch string
		port   int
	}{{"z9hG4bKfirst", 11782}, {"z9hG4bKsecond", 11786}}
	chans := make([]chan *message, len(tests))
	ep.mu.Lock()
	for k, tt := range tests {
		chans[k] = make(chan *message, 1)
		ep.pending[tt.branch] = chans[k]
	}
	ep.mu.Unlock()
	to := ep.conn.LocalAddr().(*net.UDPAddr)
	for _, tt := range tests {
		inv := request{method: "INVITE", uri: "sip:3001@box", via: "127.0.0.2:5070", branch: tt.branch,
			from: "<sip:2001@box>;tag=a", to: "<sip:3001@box>", callID: "c-" + tt.branch[len(tt.branch)-5:], cseq: 2}
		req, err := parseMessage(inv.bytes())
		if err != nil {
			t.Fatal(err)
		}
		res := response(req, 200, "OK", "b", "sip:ccbox@127.0.0.1:5060", sdpOffer("127.0.0.1", tt.port, 1))
		if _, err := box.WriteToUDP(res, to); err != nil {
			t.Fatal(err)
		}
	}
	// The second is read only after the first has been.
	var got [2]*message
	deadline := time.After(5 * time.Second)
	for k := len(tests) - 1; k >= 0; k-- {
		select {
		case got[k] = <-chans[k]:
		case <-deadline:
			t.Fatalf("response %d never arrived", k)
		}
	}
	for k, tt := range tests {
		want := sdpOffer("127.0.0.1", tt.port, 1)
		if !bytes.Equal(got[k].body, want) {
			t.Errorf("response %s: body %q, want %q", tt.branch, got[k].body, want)
		}
		if _, port, err := sdpMedia(got[k].body); err != nil || port != tt.port {
			t.Errorf("response %s: SDP port %d, %v; want %d", tt.branch, port, err, tt.port)
		}
	}
}
