// Package sipp runs SIPp (Debian sip-tester 3.6.1) for the end-to-end
// tests: one scenario per process, each peer on its own loopback address,
// every run bounded in time, with the messages it exchanged and the lines
// its <log> actions wrote kept for the test to read.
//
// SIPp cannot measure the RTP it receives and plays media only from pcap
// files, so the package also writes G.711 tone pcaps for play_pcap_audio
// and has a small RTP peer (a Go UDP socket that sends a tone and keeps what
// it receives) for scenarios where a test must prove audio arrived.
//
// It imports no package of the appliance: SIPp and the RTP peer see the box
// only through SIP and RTP on loopback.
package sipp
