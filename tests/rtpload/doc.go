// Command rtpload is the load generator of the call and registration
// benchmarks in tests/bench. It runs as its own process, so the CPU the
// benchmarks read from /proc for the appliance is the appliance's alone.
//
//	rtpload calls    -server 127.0.0.1:5060 -calls 1000 ...
//	rtpload register -server 127.0.0.1:5060 -count 10000 ...
//	rtpload echo     -server 127.0.0.1:5060 -first 3000 -count 200 ...
//	rtpload pairs    -relay-ip 127.0.0.1 -ports FILE ...
//
// "calls" registers the callee extensions, places N calls through the box
// (digest-authenticated INVITEs from one address, answered on another),
// then drives G.711 RTP both ways on every call: one paced goroutine sends
// each leg's 20 ms packet on the leg's own socket and one loop reads every
// socket, polling each millisecond rather than waiting for packets (a
// waiting receiver would charge a wake-up per packet to the relay). Each
// payload carries its stream, sequence number and send time, which the
// relay forwards untouched (PCMU on both legs), so the receiver counts
// lost, late (over 40 ms) and misrouted packets exactly.
// The result's "diag" names every leg that did not carry audio both ways
// (never activated, stopped early, unable to send, deaf, crossed, or
// sharing a box port with another leg) and what the box sent the callees,
// so a leg without audio can be traced to its Call-ID.
//
// "register" keeps a pool of endpoints, each on its own UDP socket,
// registered with digest auth (MD5 or SHA-256) and refreshing on a fixed
// period, and answers the box's OPTIONS.
//
// "echo" registers extensions, answers every INVITE with PCMU and sends
// each RTP packet back with the time it arrived written into its payload:
// the browser-seat benchmark (tests/seatload on the other side) reads
// one-way delays from it on the shared host clock.
//
// "pairs" drives a bare relay, without SIP: the relay writes its ports
// ("portA portB" per pair) to a file, and the same media engine as "calls"
// sends each pair's two streams to them (BenchmarkRelay, which sets the
// box's relay against a C one).
//
// All print JSON lines on stdout: progress events and a final result,
// which the benchmarks read. The SIP here is a minimal user agent for
// loopback load, not a general one: UDP only, one server, no forking.
//
// It imports nothing of the appliance: it sees the box only on the wire.
package main
