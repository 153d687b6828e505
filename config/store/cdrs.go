package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// CDR key prefixes: records by start time, and an index by serial number so a
// report or a screen pop finds one call without a scan.
const (
	prefixCDR       = "cdr/"
	prefixCDRSerial = "cdrserial/"
)

// CDR is one call's detail record (PBX-10): written once, when the call ends,
// and synced before the call is reported finished.
type CDR struct {
	Serial     string    `json:"serial"` // 话务流水号: sortable, unique
	Start      time.Time `json:"start"`
	Answer     time.Time `json:"answer,omitzero"`
	End        time.Time `json:"end"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name,omitempty"`
	Callee     string    `json:"callee"`
	Direction  string    `json:"direction"` // internal, inbound, outbound
	Result     string    `json:"result"`    // answered, busy, no_answer, unavailable, cancelled, rejected, failed
	Cause      string    `json:"cause"`     // why it ended, e.g. normal_clearing, rtp_timeout
	HangupBy   string    `json:"hangup_by,omitempty"`
	Legs       []CDRLeg  `json:"legs"`
}

// CDRLeg is one channel of a call.
type CDRLeg struct {
	Channel string    `json:"channel"`
	Role    string    `json:"role"`   // caller, callee
	Device  string    `json:"device"` // e.g. sip:1001
	Address string    `json:"address,omitempty"`
	Codec   string    `json:"codec,omitempty"`
	Start   time.Time `json:"start"`
	Answer  time.Time `json:"answer,omitzero"`
	End     time.Time `json:"end"`
	Cause   string    `json:"cause,omitempty"`
}

// AddCDR stores a finished call's record.
func (tx *Tx) AddCDR(c CDR) error {
	if c.Serial == "" {
		return fmt.Errorf("store: CDR without serial: %w", ErrInvalid)
	}
	key := recordKey(prefixCDR, c.Start, tx.db.seq.Add(1))
	if err := tx.putJSON(key, c, 0); err != nil {
		return err
	}
	return tx.txn.Set([]byte(prefixCDRSerial+c.Serial), key)
}

// CDRs returns records of calls started in [from, to), newest first, at most
// limit (limit <= 0 means 1000). A zero to means no upper bound.
func (tx *Tx) CDRs(from, to time.Time, limit int) ([]CDR, error) {
	var out []CDR
	err := tx.records(prefixCDR, from, to, limit, func(key, val []byte) error {
		var c CDR
		if err := json.Unmarshal(val, &c); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// CDRBySerial returns one call's record.
func (tx *Tx) CDRBySerial(serial string) (CDR, error) {
	item, err := tx.txn.Get([]byte(prefixCDRSerial + serial))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return CDR{}, ErrNotFound
	}
	if err != nil {
		return CDR{}, err
	}
	key, err := item.ValueCopy(nil)
	if err != nil {
		return CDR{}, err
	}
	var c CDR
	return c, tx.getJSON(key, &c)
}
