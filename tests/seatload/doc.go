// Command seatload is the load generator of the browser-seat benchmark in
// tests/bench (BenchmarkSeats). It runs as its own process, so the CPU the
// benchmark reads from /proc for the appliance is the appliance's alone.
//
//	seatload -url http://127.0.0.1:8080 -seats 100 -dial-first 3001 -dial-count 20 ...
//
// It plays N browser pages: each signs in as its own user (POST
// /api/v1/login, session cookie), opens /api/v1/ws with that cookie and a
// matching Origin, and goes online for its extension with a pion
// PeerConnection offering what Chromium offers for audio (PCMU, PCMA,
// telephone-event/8000), loopback candidates only. Every seat's offer is
// sent at once and the time from each offer to its DTLS-connected state
// is the handshake figure. Then each seat dials an extension that
// `rtpload echo` answers, and sends a 20 ms PCMU packet every 20 ms while
// talking. Each payload carries a probe (seat, sequence, send time t0);
// the echo side writes its receive time t1 into it and sends it back, and
// the seat notes when it returned (t2). All times are the host's wall
// clock, shared by both processes, so t1−t0 is the one-way delay
// seat→SIP and t2−t1 SIP→seat, both as measured, nothing subtracted.
// A packet sent in the window that never comes back is lost.
//
// It prints JSON lines on stdout, progress events and a final result,
// which the benchmark reads. It imports nothing of the appliance: it sees
// the box only on the wire, as a browser would.
package main
