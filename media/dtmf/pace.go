package dtmf

import (
	"errors"
	"time"
)

// ErrStopped is returned by Pace when stop closed before every packet went.
var ErrStopped = errors.New("dtmf: sending stopped")

// Pace sends packets one every PacketInterval, as a phone would: the
// packets of EventPackets, or the frames of a Tone. It returns the first
// send error, or ErrStopped when stop closes first (the leg ended).
func Pace(pkts [][]byte, send func([]byte) error, stop <-chan struct{}) error {
	t := time.NewTicker(PacketInterval)
	defer t.Stop()
	for i, p := range pkts {
		if i > 0 {
			select {
			case <-t.C:
			case <-stop:
				return ErrStopped
			}
		}
		if err := send(p); err != nil {
			return err
		}
	}
	return nil
}
