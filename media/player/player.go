package player

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/ccbox/ccbox/media/codec"
	"github.com/ccbox/ccbox/media/rtp"
)

// maxCatchUp is how many frames one playback sends on a tick that came
// late (the machine was busy): enough to keep the pace on average through
// stalls of up to 100 ms, few enough that a longer one does not overflow
// the phone's jitter buffer; beyond it the schedule slips.
const maxCatchUp = 5

// Player paces playbacks with one clock: a single goroutine ticks every
// FrameDuration while anything plays and exits when nothing does, however
// many playbacks run. Its methods are safe for concurrent use.
type Player struct {
	log *slog.Logger

	mu      sync.Mutex
	plays   []*Playback
	running bool // the clock goroutine is alive
	closed  bool
	wg      sync.WaitGroup // the clock goroutine
}

// New returns a player; log nil discards.
func New(log *slog.Logger) *Player {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Player{log: log.With("component", "player")}
}

// Playback is one sound playing into one endpoint.
type Playback struct {
	p    *Player
	ep   *rtp.Endpoint
	s    *Sound
	loop bool
	done chan struct{}

	// mu is held while a frame is sent, so once Stop returns nothing more
	// goes out.
	mu      sync.Mutex
	stopped bool

	// Touched only by the clock goroutine (under mu).
	ssrc      uint32
	seq       uint16
	ts        uint32
	frame     int   // next frame of s
	started   bool  // startTick is set
	startTick int64 // the tick that sent frame 0
	sent      int64 // frames sent (or skipped because the leg had no remote)
	buf       []byte
}

// Play starts playing s into ep (looping it when loop is set) on the next
// tick, in ep's codec (PCMU when not set), as an RTP stream of its own:
// ep.Send renumbers it into the leg's output. Until the phone has sent a
// packet or SetRemote was called, frames are dropped and still count as
// played. Playing a sound with no frames, or after Close, returns a
// playback already done.
func (p *Player) Play(ep *rtp.Endpoint, s *Sound, loop bool) *Playback {
	pb := &Playback{
		p: p, ep: ep, s: s, loop: loop,
		done: make(chan struct{}),
		ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		buf: make([]byte, 0, rtp.HeaderSize+FrameSamples),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || s.Frames() == 0 {
		pb.stopped = true
		close(pb.done)
		return pb
	}
	p.plays = append(p.plays, pb)
	if !p.running {
		p.running = true
		p.wg.Add(1)
		go p.run()
	}
	p.log.Debug("playback started", "sound", s.Name(), "loop", loop, "rtp_port", ep.LocalAddr().Port())
	return pb
}

// Stop ends the playback. It is idempotent; once it returns, no more
// packets are sent for it.
func (pb *Playback) Stop() {
	pb.mu.Lock()
	pb.finish()
	pb.mu.Unlock()
	pb.p.remove(pb)
}

// Done is closed when the playback finished (the end of a sound not
// looped) or was stopped.
func (pb *Playback) Done() <-chan struct{} { return pb.done }

// finish marks pb stopped; the caller holds pb.mu.
func (pb *Playback) finish() {
	if !pb.stopped {
		pb.stopped = true
		close(pb.done)
	}
}

// Close stops every playback and waits for the clock goroutine to exit;
// later Plays return playbacks already done.
func (p *Player) Close() {
	p.mu.Lock()
	p.closed = true
	plays := p.plays
	p.plays = nil
	p.mu.Unlock()
	for _, pb := range plays {
		pb.mu.Lock()
		pb.finish()
		pb.mu.Unlock()
	}
	p.wg.Wait()
}

func (p *Player) remove(pb *Playback) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.plays {
		if x == pb {
			last := len(p.plays) - 1
			p.plays[i], p.plays[last] = p.plays[last], nil
			p.plays = p.plays[:last]
			return
		}
	}
}

// run is the clock: every FrameDuration it sends what each playback has
// due. Ticks are numbered from the goroutine's start by the wall clock, so
// a late tick sends the frames it missed and the pace holds on average.
func (p *Player) run() {
	defer p.wg.Done()
	ticker := time.NewTicker(FrameDuration)
	defer ticker.Stop()
	epoch := time.Now()
	var batch []*Playback
	for range ticker.C {
		p.mu.Lock()
		if len(p.plays) == 0 {
			p.running = false // a Play from now on starts a new clock
			p.mu.Unlock()
			return
		}
		batch = append(batch[:0], p.plays...)
		p.mu.Unlock()

		// Rounded, so ticker jitter of up to half a frame changes nothing.
		tick := (time.Since(epoch) + FrameDuration/2) / FrameDuration
		for _, pb := range batch {
			if pb.tick(int64(tick)) {
				p.remove(pb)
			}
		}
		clear(batch) // keep no playback alive through the scratch slice
	}
}

// tick sends the frames due at tick and reports whether the playback is
// over.
func (pb *Playback) tick(tick int64) bool {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if pb.stopped {
		return true
	}
	if !pb.started {
		pb.started, pb.startTick = true, tick
	}
	var n int64
	n, pb.startTick = framesDue(pb.startTick, pb.sent, tick)
	for range n {
		if !pb.sendFrame() {
			pb.finish()
			return true
		}
	}
	return false
}

// framesDue returns how many frames to send at tick for a playback that
// started at startTick and has sent sent frames, and its start tick, moved
// later when more than maxCatchUp frames were due (the schedule slips
// rather than bursting).
func framesDue(startTick, sent, tick int64) (int64, int64) {
	due := tick - startTick + 1 - sent
	if due > maxCatchUp {
		startTick += due - maxCatchUp
		due = maxCatchUp
	}
	return max(due, 0), startTick
}

// sendFrame sends the next frame and reports whether there is more to
// play.
func (pb *Playback) sendFrame() bool {
	c := pb.ep.Codec()
	if c == codec.Unknown {
		c = codec.PCMU
	}
	pt, _ := c.PayloadType()
	pb.buf = rtp.AppendPacket(pb.buf[:0], rtp.Header{
		PayloadType: pt,
		Marker:      pb.sent == 0,
		Sequence:    pb.seq,
		Timestamp:   pb.ts,
		SSRC:        pb.ssrc,
	}, pb.s.Frame(c, pb.frame))
	pb.seq++
	pb.ts += FrameSamples
	pb.sent++
	pb.frame++
	if err := pb.ep.Send(pb.buf); errors.Is(err, net.ErrClosed) {
		pb.p.log.Debug("playback ended: endpoint closed", "sound", pb.s.Name())
		return false
	} // ErrNoRemote and send errors: the frame is lost like any RTP packet
	if pb.frame == pb.s.Frames() {
		if !pb.loop {
			return false
		}
		pb.frame = 0
	}
	return true
}
