package store

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Token is an API bearer token for automation. The secret is shown once at
// creation; only its SHA-256 (HashSecret) is stored.
type Token struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	User       string    `json:"user"`
	SecretHash string    `json:"secret_hash"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires,omitempty"` // zero: never
}

// Expired reports whether the token has an expiry at or before now.
func (t Token) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// Matches reports, in constant time, whether secret is this token's secret.
func (t Token) Matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(t.SecretHash)) == 1
}

// Token returns the token with this ID, or ErrNotFound when it does not exist
// or has expired (Token is what authentication calls; Tokens lists expired
// ones too so an admin can see and delete them).
func (tx *Tx) Token(id string) (Token, error) {
	var t Token
	if id == "" {
		return t, ErrNotFound
	}
	if err := tx.getJSON(tokenKey(id), &t); err != nil {
		return Token{}, err
	}
	if t.Expired(tx.db.now()) {
		return Token{}, ErrNotFound
	}
	return t, nil
}

// Tokens returns the tokens of user (every token when user is ""), oldest first.
func (tx *Tx) Tokens(user string) ([]Token, error) {
	var tokens []Token
	err := tx.scan(prefixToken, func(key, val []byte) error {
		var t Token
		if err := json.Unmarshal(val, &t); err != nil {
			return fmt.Errorf("store: decode %q: %w", key, err)
		}
		if user == "" || t.User == user {
			tokens = append(tokens, t)
		}
		return nil
	})
	sort.SliceStable(tokens, func(i, j int) bool {
		if !tokens[i].Created.Equal(tokens[j].Created) {
			return tokens[i].Created.Before(tokens[j].Created)
		}
		return tokens[i].ID < tokens[j].ID
	})
	return tokens, err
}

// PutToken creates or replaces the token t.ID. Created is set to now when zero.
func (tx *Tx) PutToken(t Token) error {
	if t.ID == "" {
		return fmt.Errorf("put token: %w: empty ID", ErrInvalid)
	}
	if t.Created.IsZero() {
		t.Created = tx.db.now()
	}
	return tx.putJSON(tokenKey(t.ID), t, 0)
}

// DeleteToken revokes a token; ErrNotFound if there is none with this ID.
func (tx *Tx) DeleteToken(id string) error {
	if id == "" {
		return ErrNotFound
	}
	ok, err := tx.exists(tokenKey(id))
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return tx.delete(tokenKey(id))
}
