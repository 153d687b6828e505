package store

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// RegionRow is one line of the region table: numbers whose national form
// begins with Prefix are in Province, City (longest prefix wins).
type RegionRow struct {
	Prefix   string `json:"p"`
	Province string `json:"r"`
	City     string `json:"c"`
}

// RegionInfo describes the stored region table.
type RegionInfo struct {
	Rows    int       `json:"rows"`
	Updated time.Time `json:"updated"` // zero when never imported
}

// regionChunkRows is how many rows one stored value holds. A full national
// table has hundreds of thousands of rows, far more keys than one
// transaction may write (see ErrTxnTooBig); stored in chunks of this many
// rows, each a value in the value log, the whole table is replaced in one
// transaction and read back in order with a prefix scan.
const regionChunkRows = 20000

// maxRegionPrefix is the longest prefix kept (digits).
const maxRegionPrefix = 12

// ReplaceRegions replaces the whole region table with rows, in this one
// transaction (an import never leaves half a table). Each prefix must be
// 1-12 digits and appear once; otherwise ErrInvalid and nothing is changed.
// The store sorts the rows by prefix; the CSV rules are dialplan's.
func (tx *Tx) ReplaceRegions(rows []RegionRow) error {
	sorted := append([]RegionRow(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Prefix < sorted[j].Prefix })
	for i, r := range sorted {
		if !isDigits(r.Prefix, maxRegionPrefix) {
			return fmt.Errorf("replace regions: %w: prefix %q is not 1-%d digits", ErrInvalid, r.Prefix, maxRegionPrefix)
		}
		if i > 0 && sorted[i-1].Prefix == r.Prefix {
			return fmt.Errorf("replace regions: %w: prefix %q given twice", ErrInvalid, r.Prefix)
		}
	}
	if err := tx.deletePrefix(prefixRegion); err != nil {
		return err
	}
	for i := 0; i*regionChunkRows < len(sorted); i++ {
		chunk := sorted[i*regionChunkRows : min((i+1)*regionChunkRows, len(sorted))]
		if err := tx.putJSON(regionChunkKey(i), chunk, 0); err != nil {
			return err
		}
	}
	return tx.putJSON([]byte(keyRegionInfo), RegionInfo{Rows: len(sorted), Updated: tx.db.now()}, 0)
}

// Regions returns the region table, sorted by prefix; none before the
// first import.
func (tx *Tx) Regions() ([]RegionRow, error) {
	var out []RegionRow
	err := scanJSON(tx, prefixRegion, func(chunk []RegionRow) { out = append(out, chunk...) })
	return out, err
}

// RegionInfo returns the size and time of the last import; the zero
// RegionInfo before the first.
func (tx *Tx) RegionInfo() (RegionInfo, error) {
	var info RegionInfo
	err := tx.getJSON([]byte(keyRegionInfo), &info)
	if errors.Is(err, ErrNotFound) {
		return RegionInfo{}, nil
	}
	return info, err
}

// isDigits: 1 to max ASCII digits.
func isDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
