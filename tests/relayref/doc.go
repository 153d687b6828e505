// Command relayref runs the appliance's RTP relay (media/rtp) and nothing
// else, for BenchmarkRelay in tests/bench: the same load generator
// (rtpload pairs) drives it and the bare C relay of tests/crelay in turn,
// and the CPU each uses per forwarded packet is compared on one machine.
//
//	relayref -ip 127.0.0.1 -pairs 500 -ports /tmp/ports -rtp-ports 20000-29999
//
// It allocates 2 × pairs endpoints from a PortPool and sets each pair up
// as a call sets up its two legs (pbx/sip, pbx/call): PCMU on both sides
// with no telephone-event (what rtpload offers), the telephone-event hook
// and the media timeout armed, then rtp.Bridge. Packets take the relay's
// fast path: no transcoding, SSRC, sequence and timestamp rewritten. No
// remote address is set from SDP (there is none): each endpoint latches
// onto the first packet's source, which is where a call's SetRemote would
// have pointed it anyway. It writes "portA portB" per pair to the ports
// file (written aside and renamed, so a reader never sees half of it) and
// relays until SIGTERM or SIGINT.
//
// Unlike the other programs under tests it imports a package of the
// appliance, on purpose: it is that package, measured alone.
package main
