// Package tests holds the black-box end-to-end tests of the appliance and
// the test that keeps the import graph as docs/architecture.md draws it.
//
// The end-to-end tests build the real binary (harness.Binary), start it with
// a temporary data directory on loopback ports (harness.Start) and drive it
// with real peers: SIPp and baresip for SIP and RTP, headless Chromium for
// the web pages and WebRTC seats (package browser). Audio is proven by a
// tone sent at one end and detected at the other (package audiotest).
// docs/testing.md tells how to run them.
//
// Nothing outside tests/ may import these packages, and they import no
// package of the appliance: they see it only through its external contract.
package tests
