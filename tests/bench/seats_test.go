package bench

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// Browser-seat benchmark parameters.
const (
	// defaultSeats is N; BENCH_SEATS overrides it.
	defaultSeats = 100
	// seatsWindow is the measured window with every call up.
	seatsWindow = 20 * time.Second
	// seatsDialRate is how many calls a second the seats place.
	seatsDialRate = 50
	// seatFirst is the first seat's extension; seatCallees extensions
	// from seatCalleeFirst answer (enough that none reaches benchMaxCalls).
	seatFirst                            = 2001
	seatCalleeFirst, seatCallees         = 3001, 20
	seatCapacityTarget                   = 800
	seatLatencyTarget                    = 5 * time.Millisecond
	seatLatencyTargetMs          float64 = float64(seatLatencyTarget) / float64(time.Millisecond)
)

// seatLatency is one of seatload's latency summaries, in ms.
type seatLatency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// seatsResult is seatload's result line.
type seatsResult struct {
	Seats        int     `json:"seats"`
	Online       int     `json:"online"`
	OnlineFailed int     `json:"online_failed"`
	OnlineS      float64 `json:"online_s"`
	OnlineRate   float64 `json:"online_rate"`
	OnlineP50    float64 `json:"online_p50_ms"`
	OnlineP99    float64 `json:"online_p99_ms"`
	OnlineMax    float64 `json:"online_max_ms"`
	Established  int     `json:"established"`
	SetupFailed  int     `json:"setup_failed"`
	WindowS      float64 `json:"window_s"`
	Media        struct {
		Sent       uint64      `json:"sent"`
		Received   uint64      `json:"received"`
		Lost       uint64      `json:"lost"`
		Late       uint64      `json:"late"`
		Crossed    uint64      `json:"crossed"`
		Deaf       int         `json:"deaf"`
		SendErrors uint64      `json:"send_errors"`
		Foreign    uint64      `json:"foreign"`
		SeatToSIP  seatLatency `json:"seat_to_sip"`
		SIPToSeat  seatLatency `json:"sip_to_seat"`
		RoundTrip  seatLatency `json:"round_trip"`
		MaxTickLag float64     `json:"max_tick_lag_ms"`
	} `json:"media"`
	HangupFailed int      `json:"hangup_failed"`
	GenCPUS      float64  `json:"gen_cpu_s"`
	FirstErrors  []string `json:"first_errors"`
}

// seatsRun is what one run of BenchmarkSeats measured.
type seatsRun struct {
	n                     int
	res                   seatsResult
	echo                  echoResult
	cpu, wall             time.Duration // the box, over the media window
	onlineCPU, onlineWall time.Duration // the box, while the seats went online
	idleRSS, loadRSS      int64
}

// BenchmarkSeats measures browser seats bridged to SIP calls. The load is
// two processes besides the box: `rtpload echo` registers extensions
// 3001-3020 from 127.0.0.3, answers every call and sends each RTP packet
// straight back; `seatload` plays BENCH_SEATS (default 100) browser pages,
// each signed in as its own user owning one extension from 2001, on its own
// WebSocket and pion PeerConnection. All the seats send their offers at
// once (the DTLS handshakes per second: offer to connected), then each
// dials a callee, 50 calls a second, and sends G.711 every 20 ms, which the
// callee echoes. Over a 20 s window with every call up the box's CPU and
// RSS are read from /proc; every probe's send, echo and return times
// (one host clock) give the one-way delays seat→SIP and SIP→seat, raw.
// Reported: CPU per seat-call and the capacity estimate capacityCores ÷
// that, handshakes per second, the delays, packets lost.
func BenchmarkSeats(b *testing.B) {
	n := envInt(b, "BENCH_SEATS", defaultSeats)
	for range b.N {
		run := seatsRun{n: n}
		app := callBox(b)
		provisionSeats(b, app, seatFirst, n, seatCalleeFirst, seatCallees)
		rtpload, seatload := buildRTPLoad(b), buildSeatLoad(b)
		echo := startEcho(b, rtpload, app, seatCalleeFirst, seatCallees)
		s := newCPUSampler(b, app.PID())
		pid := app.PID()
		profiled := func() {}
		raw := runGenerator(b, seatload, 10*time.Minute, func(ev genEvent) {
			switch ev.Event {
			case "online_start":
				run.idleRSS = mustStatus(b, pid, "VmRSS")
				s.mark("online_start")
			case "online_end":
				s.mark("online_end")
			case "window_start":
				s.mark("start")
				profiled = profileBox(b, app, seatsWindow/2)
			case "window_end":
				s.mark("end")
				run.loadRSS = mustStatus(b, pid, "VmRSS")
			}
		}, "-url", app.URL(), "-seats", strconv.Itoa(n), "-first", strconv.Itoa(seatFirst),
			"-user-prefix", seatUserPrefix, "-password", seatPassword,
			"-dial-first", strconv.Itoa(seatCalleeFirst), "-dial-count", strconv.Itoa(seatCallees),
			"-rate", strconv.Itoa(seatsDialRate), "-window", seatsWindow.String())
		if err := json.Unmarshal(raw, &run.res); err != nil {
			b.Fatalf("seatload result %s: %v", raw, err)
		}
		profiled()
		run.echo = echo.stop(b)
		run.cpu, run.wall = s.between("start", "end")
		run.onlineCPU, run.onlineWall = s.between("online_start", "online_end")
		if exited, code := app.Exited(); exited {
			b.Fatalf("appliance exited (status %d) under load", code)
		}
		reportSeats(b, run)
		app.Stop(b)
	}
}

// reportSeats reports the figures of one run.
func reportSeats(b *testing.B, r seatsRun) {
	res, m := r.res, r.res.Media
	cores := r.cpu.Seconds() / r.wall.Seconds()
	perCall := cores / float64(max(res.Established, 1))
	capacity := capacityCores / perCall
	perPacket := r.cpu.Seconds() / float64(max(2*m.Received, 1)) * 1e6 // each echoed probe crossed the box twice
	rssPerSeat := float64(r.loadRSS-r.idleRSS) / float64(max(res.Established, 1))
	handshakeCPU := r.onlineCPU.Seconds() / float64(max(res.Online, 1)) * 1000
	hideNsPerOp(b)
	b.ReportMetric(float64(res.Established), "seat-calls")
	b.ReportMetric(float64(m.Lost), "lost")
	b.ReportMetric(perCall*1000, "mcores/seat-call")
	b.ReportMetric(capacity, "capacity-seat-calls")
	b.ReportMetric(res.OnlineRate, "seats-online/s")
	b.ReportMetric(m.SeatToSIP.P50, "seat-to-sip-p50-ms")
	b.ReportMetric(m.SeatToSIP.P99, "seat-to-sip-p99-ms")
	b.ReportMetric(m.SIPToSeat.P50, "sip-to-seat-p50-ms")
	b.ReportMetric(m.SIPToSeat.P99, "sip-to-seat-p99-ms")
	b.ReportMetric(rssPerSeat/1024, "rss-KB/seat-call")
	b.Logf("%d seats: %d online (%d failed) in %.2f s from the first offer to the last connected = %.1f seats/s; offer→connected p50 %.0f ms, p99 %.0f ms, max %.0f ms",
		r.n, res.Online, res.OnlineFailed, res.OnlineS, res.OnlineRate, res.OnlineP50, res.OnlineP99, res.OnlineMax)
	b.Logf("going online the box used %.2f CPU s in %.2f s: %.1f CPU ms per seat (ICE + DTLS handshake + WebSocket signalling)",
		r.onlineCPU.Seconds(), r.onlineWall.Seconds(), handshakeCPU)
	b.Logf("%d seat-calls up (%d failed to set up), %.0f s window: the box used %.2f CPU s in %.1f s = %.3f cores",
		res.Established, res.SetupFailed, res.WindowS, r.cpu.Seconds(), r.wall.Seconds(), cores)
	b.Logf("packets: %d sent by the seats, %d came back, %d lost (%.4f %%), %d with a round trip > 40 ms; crossed %d, deaf %d, send errors %d",
		m.Sent, m.Received, m.Lost, 100*float64(m.Lost)/float64(max(m.Sent, 1)), m.Late, m.Crossed, m.Deaf, m.SendErrors)
	b.Logf("one-way delay seat→SIP p50 %.2f ms, p99 %.2f ms, max %.1f ms; SIP→seat p50 %.2f ms, p99 %.2f ms, max %.1f ms (target < %.0f ms: %s); round trip p50 %.2f ms, p99 %.2f ms",
		m.SeatToSIP.P50, m.SeatToSIP.P99, m.SeatToSIP.Max, m.SIPToSeat.P50, m.SIPToSeat.P99, m.SIPToSeat.Max,
		seatLatencyTargetMs, verdict(m.SeatToSIP.P99 < seatLatencyTargetMs && m.SIPToSeat.P99 < seatLatencyTargetMs),
		m.RoundTrip.P50, m.RoundTrip.P99)
	b.Logf("CPU per seat-call %.3f mcores, %.2f µs per packet relayed (SRTP one side, RTP the other); capacity %.1f cores ÷ that = %.0f seat-calls (target ≥ %d: %s)",
		perCall*1000, perPacket, capacityCores, capacity, seatCapacityTarget, verdict(capacity >= seatCapacityTarget))
	b.Logf("RSS %.1f MB with the seats signed in, %.1f MB with every seat online and in a call: %.1f KB per seat-call",
		mb(r.idleRSS), mb(r.loadRSS), rssPerSeat/1024)
	b.Logf("seatload: %.2f CPU s in the window, worst tick lag %.1f ms, %d hang-ups failed; rtpload echo: %d INVITEs, %d answered, %d BYEs, %d packets echoed, %.2f CPU s in all; errors: %s %q",
		res.GenCPUS, m.MaxTickLag, res.HangupFailed, r.echo.Invites, r.echo.Answered, r.echo.Byes, r.echo.Echoed, r.echo.GenCPUS,
		fmtErrs(res.FirstErrors), r.echo.FirstError)
	if res.OnlineFailed > 0 || res.SetupFailed > 0 || m.Lost > 0 || m.Crossed > 0 || m.Deaf > 0 {
		b.Errorf("not clean at %d seats: %d did not go online, %d calls failed to set up, %d packets lost, %d crossed, %d deaf",
			r.n, res.OnlineFailed, res.SetupFailed, m.Lost, m.Crossed, m.Deaf)
	}
}
