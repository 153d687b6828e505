package rtp

// Bridge relays a and b to each other: what a receives goes out of b, and
// the other way round. It may start before the call is answered (early
// media) and replaces whatever sink either endpoint had.
func Bridge(a, b *Endpoint) {
	a.SetSink(b)
	b.SetSink(a)
}

// Unbridge stops relaying between a and b without closing either: each
// endpoint whose sink is still the other is left with none (its packets are
// counted and dropped until something else, a player or a mixer, takes it).
func Unbridge(a, b *Endpoint) {
	a.detach(b)
	b.detach(a)
}

// detach clears e's sink if it is still peer.
func (e *Endpoint) detach(peer *Endpoint) {
	e.sinkMu.Lock()
	defer e.sinkMu.Unlock()
	if box := e.sink.Load(); box != nil {
		if p, ok := box.s.(*Endpoint); ok && p == peer {
			e.swapSink(nil)
		}
	}
}
