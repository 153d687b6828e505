package store

import "errors"

// System holds box-wide settings an admin edits.
type System struct {
	Title string `json:"title"` // shown in the browser title and header; "" means the product name
}

// System returns the system settings; the zero System when none were stored.
func (tx *Tx) System() (System, error) {
	var s System
	err := tx.getJSON([]byte(keySystem), &s)
	if errors.Is(err, ErrNotFound) {
		return System{}, nil
	}
	return s, err
}

// PutSystem replaces the system settings.
func (tx *Tx) PutSystem(s System) error { return tx.putJSON([]byte(keySystem), s, 0) }
