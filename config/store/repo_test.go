package store

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// t0 is the tests' fake "now". It lies in the future because Badger's TTL runs
// on the real clock: a session expiring an hour after t0 must still be stored.
var t0 = time.Date(2099, 3, 1, 9, 0, 0, 0, time.UTC)

func TestUsers(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})

	put := []User{
		{Name: "zoe", Role: RoleAgent, PasswordHash: "h1", Language: "zh-CN"},
		{Name: "alice", DisplayName: "Alice A", Role: RoleAdmin, PasswordHash: "h2"},
		{Name: "bob", Role: RoleSupervisor, PasswordHash: "h3", Disabled: true},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for _, u := range put {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})

	tests := []struct {
		name    string
		user    string
		want    User
		wantErr error
	}{
		{"admin", "alice", User{Name: "alice", DisplayName: "Alice A", Role: RoleAdmin, PasswordHash: "h2", Created: t0, Updated: t0}, nil},
		{"disabled", "bob", User{Name: "bob", Role: RoleSupervisor, PasswordHash: "h3", Disabled: true, Created: t0, Updated: t0}, nil},
		{"language", "zoe", User{Name: "zoe", Role: RoleAgent, PasswordHash: "h1", Language: "zh-CN", Created: t0, Updated: t0}, nil},
		{"missing", "nobody", User{}, ErrNotFound},
		{"empty name", "", User{}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got User
			err := db.View(func(tx *Tx) error {
				var err error
				got, err = tx.User(tt.user)
				return err
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}

	t.Run("sorted and counted", func(t *testing.T) {
		db.View(func(tx *Tx) error {
			users, err := tx.Users()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range users {
				names = append(names, u.Name)
			}
			if want := []string{"alice", "bob", "zoe"}; !reflect.DeepEqual(names, want) {
				t.Errorf("names = %v, want %v", names, want)
			}
			if n, err := tx.CountUsers(); n != 3 || err != nil {
				t.Errorf("CountUsers = %d, %v", n, err)
			}
			return nil
		})
	})

	t.Run("update keeps Created", func(t *testing.T) {
		clock.add(time.Hour)
		mustUpdate(t, db, func(tx *Tx) error {
			u, err := tx.User("alice")
			if err != nil {
				return err
			}
			u.DisplayName = "Alice B"
			return tx.PutUser(u)
		})
		db.View(func(tx *Tx) error {
			u, _ := tx.User("alice")
			if !u.Created.Equal(t0) || !u.Updated.Equal(t0.Add(time.Hour)) || u.DisplayName != "Alice B" {
				t.Errorf("after update: %+v", u)
			}
			return nil
		})
	})

	t.Run("invalid and delete", func(t *testing.T) {
		if err := db.Update(func(tx *Tx) error { return tx.PutUser(User{}) }); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutUser(empty) = %v", err)
		}
		mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("bob") })
		if err := db.Update(func(tx *Tx) error { return tx.DeleteUser("bob") }); !errors.Is(err, ErrNotFound) {
			t.Errorf("second DeleteUser = %v", err)
		}
		db.View(func(tx *Tx) error {
			if n, _ := tx.CountUsers(); n != 2 {
				t.Errorf("CountUsers = %d", n)
			}
			return nil
		})
	})
}

func TestDeleteUserRemovesSessionsAndTokens(t *testing.T) {
	db := openTest(t, Options{Now: newTestClock(t0).now})
	mustUpdate(t, db, func(tx *Tx) error {
		for _, name := range []string{"alice", "bob"} {
			if err := tx.PutUser(User{Name: name, Role: RoleAgent}); err != nil {
				return err
			}
			if err := tx.PutSession(Session{ID: "s-" + name, User: name, Expires: t0.Add(time.Hour)}); err != nil {
				return err
			}
			if err := tx.PutToken(Token{ID: "t-" + name, User: name}); err != nil {
				return err
			}
		}
		return tx.DeleteUser("alice")
	})
	db.View(func(tx *Tx) error {
		if _, err := tx.Session("s-alice"); !errors.Is(err, ErrNotFound) {
			t.Errorf("alice's session: %v", err)
		}
		if _, err := tx.Token("t-alice"); !errors.Is(err, ErrNotFound) {
			t.Errorf("alice's token: %v", err)
		}
		if _, err := tx.Session("s-bob"); err != nil {
			t.Errorf("bob's session: %v", err)
		}
		if _, err := tx.Token("t-bob"); err != nil {
			t.Errorf("bob's token: %v", err)
		}
		return nil
	})
}

func TestSessions(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	sessions := []Session{
		{ID: "secret-cookie-1", User: "alice", CSRF: "c1", Address: "10.0.0.1", Expires: t0.Add(time.Hour)},
		{ID: "secret-cookie-2", User: "alice", CSRF: "c2", Address: "10.0.0.2", Expires: t0.Add(2 * time.Hour)},
		{ID: "secret-cookie-3", User: "bob", CSRF: "c3", Address: "10.0.0.3", Expires: t0.Add(time.Hour)},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for _, s := range sessions {
			if err := tx.PutSession(s); err != nil {
				return err
			}
		}
		return nil
	})

	get := func(id string) (Session, error) {
		var s Session
		err := db.View(func(tx *Tx) error {
			var err error
			s, err = tx.Session(id)
			return err
		})
		return s, err
	}

	t.Run("round trip", func(t *testing.T) {
		for _, want := range sessions {
			got, err := get(want.ID)
			if err != nil {
				t.Fatal(err)
			}
			want.Created = t0
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		}
	})

	t.Run("ID is not stored", func(t *testing.T) {
		db.View(func(tx *Tx) error {
			return tx.scan("", func(key, val []byte) error {
				if bytes.Contains(key, []byte("secret-cookie")) || bytes.Contains(val, []byte("secret-cookie")) {
					t.Errorf("session ID in store: %q = %q", key, val)
				}
				return nil
			})
		})
	})

	t.Run("invalid", func(t *testing.T) {
		for _, s := range []Session{{User: "x", Expires: t0}, {ID: "x", User: "x"}} {
			if err := db.Update(func(tx *Tx) error { return tx.PutSession(s) }); !errors.Is(err, ErrInvalid) {
				t.Errorf("PutSession(%+v) = %v", s, err)
			}
		}
	})

	t.Run("expiry", func(t *testing.T) {
		clock.set(t0.Add(time.Hour)) // exactly at Expires of 1 and 3: expired
		tests := []struct {
			id      string
			wantErr error
		}{
			{"secret-cookie-1", ErrNotFound},
			{"secret-cookie-2", nil},
			{"secret-cookie-3", ErrNotFound},
			{"", ErrNotFound},
		}
		for _, tt := range tests {
			if _, err := get(tt.id); !errors.Is(err, tt.wantErr) {
				t.Errorf("Session(%q) = %v, want %v", tt.id, err, tt.wantErr)
			}
		}
		clock.set(t0)
	})

	t.Run("delete", func(t *testing.T) {
		mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUserSessions("alice") })
		for _, s := range sessions {
			_, err := get(s.ID)
			if s.User == "alice" && !errors.Is(err, ErrNotFound) {
				t.Errorf("alice's session %s survived: %v", s.ID, err)
			}
			if s.User == "bob" && err != nil {
				t.Errorf("bob's session: %v", err)
			}
		}
		mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteSession("secret-cookie-3") })
		mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteSession("secret-cookie-3") }) // idempotent
		if _, err := get("secret-cookie-3"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted session: %v", err)
		}
	})
}

func TestSessionBadgerTTL(t *testing.T) {
	tests := []struct {
		expires time.Time
		want    uint64
	}{
		{time.Unix(100, 0), 100},
		{time.Unix(100, 1), 101},
		{time.Unix(-5, 0), 1},
	}
	for _, tt := range tests {
		if got := ttlSeconds(tt.expires); got != tt.want {
			t.Errorf("ttlSeconds(%v) = %d, want %d", tt.expires, got, tt.want)
		}
	}
	// A session already past its Expires is dropped by Badger itself.
	db := openTest(t, Options{})
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutSession(Session{ID: "old", User: "a", Expires: time.Now().Add(-time.Minute)})
	})
	db.View(func(tx *Tx) error {
		if ok, _ := tx.exists(sessionKey("old")); ok {
			t.Error("expired session still in Badger")
		}
		return nil
	})
}

func TestTokens(t *testing.T) {
	clock := newTestClock(t0)
	db := openTest(t, Options{Now: clock.now})
	tokens := []Token{
		{ID: "t3", Name: "ci", User: "alice", SecretHash: HashSecret("s3"), Created: t0.Add(2 * time.Minute)},
		{ID: "t1", Name: "cron", User: "alice", SecretHash: HashSecret("s1"), Created: t0, Expires: t0.Add(time.Hour)},
		{ID: "t2", Name: "bob's", User: "bob", SecretHash: HashSecret("s2"), Created: t0.Add(time.Minute)},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for _, tok := range tokens {
			if err := tx.PutToken(tok); err != nil {
				return err
			}
		}
		return nil
	})

	ids := func(ts []Token) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	tests := []struct {
		user string
		want []string
	}{
		{"alice", []string{"t1", "t3"}},
		{"bob", []string{"t2"}},
		{"", []string{"t1", "t2", "t3"}},
		{"nobody", nil},
	}
	for _, tt := range tests {
		t.Run("list "+tt.user, func(t *testing.T) {
			db.View(func(tx *Tx) error {
				got, err := tx.Tokens(tt.user)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ids(got), tt.want) {
					t.Errorf("Tokens(%q) = %v, want %v", tt.user, ids(got), tt.want)
				}
				return nil
			})
		})
	}

	t.Run("get and match", func(t *testing.T) {
		db.View(func(tx *Tx) error {
			got, err := tx.Token("t1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tokens[1]) {
				t.Errorf("got %+v", got)
			}
			if !got.Matches("s1") || got.Matches("s2") || got.Matches("") {
				t.Error("Matches wrong")
			}
			return nil
		})
	})

	t.Run("expired", func(t *testing.T) {
		clock.set(t0.Add(time.Hour))
		defer clock.set(t0)
		db.View(func(tx *Tx) error {
			if _, err := tx.Token("t1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("expired Token = %v", err)
			}
			if _, err := tx.Token("t3"); err != nil {
				t.Errorf("never-expiring Token = %v", err)
			}
			all, _ := tx.Tokens("alice")
			if len(all) != 2 {
				t.Errorf("Tokens lists %d, want expired ones too", len(all))
			}
			return nil
		})
	})

	t.Run("delete", func(t *testing.T) {
		mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteToken("t2") })
		tests := []struct {
			id      string
			wantErr error
		}{{"t2", ErrNotFound}, {"", ErrNotFound}, {"nope", ErrNotFound}}
		for _, tt := range tests {
			if err := db.Update(func(tx *Tx) error { return tx.DeleteToken(tt.id) }); !errors.Is(err, tt.wantErr) {
				t.Errorf("DeleteToken(%q) = %v", tt.id, err)
			}
		}
		if err := db.Update(func(tx *Tx) error { return tx.PutToken(Token{}) }); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutToken(empty) = %v", err)
		}
	})
}

// logKinds runs the same record tests against the login and audit logs.
var logKinds = []struct {
	name string
	add  func(tx *Tx, at time.Time, user string) error
	list func(tx *Tx, from, to time.Time, limit int) ([]string, error)
}{
	{
		name: "logins",
		add: func(tx *Tx, at time.Time, user string) error {
			return tx.AddLogin(LoginEntry{Time: at, User: user, Address: "10.0.0.1", Result: LoginOK})
		},
		list: func(tx *Tx, from, to time.Time, limit int) ([]string, error) {
			es, err := tx.Logins(from, to, limit)
			var out []string
			for _, e := range es {
				out = append(out, e.User)
			}
			return out, err
		},
	},
	{
		name: "audits",
		add: func(tx *Tx, at time.Time, user string) error {
			return tx.AddAudit(AuditEntry{Time: at, User: user, Action: "user.update", Object: "x"})
		},
		list: func(tx *Tx, from, to time.Time, limit int) ([]string, error) {
			es, err := tx.Audits(from, to, limit)
			var out []string
			for _, e := range es {
				out = append(out, e.User)
			}
			return out, err
		},
	},
}

func TestLogs(t *testing.T) {
	for _, kind := range logKinds {
		t.Run(kind.name, func(t *testing.T) {
			db := openTest(t, Options{Now: newTestClock(t0.Add(time.Hour)).now})
			mustUpdate(t, db, func(tx *Tx) error {
				// Written out of order, two in the same nanosecond.
				for _, e := range []struct {
					at   time.Time
					user string
				}{
					{t0.Add(2 * time.Minute), "c"},
					{t0, "a"},
					{t0.Add(time.Minute), "b1"},
					{t0.Add(time.Minute), "b2"},
					{t0.Add(3 * time.Minute), "d"},
					{time.Time{}, "now"}, // zero: the clock, t0+1h
				} {
					if err := kind.add(tx, e.at, e.user); err != nil {
						return err
					}
				}
				return nil
			})
			tests := []struct {
				name     string
				from, to time.Time
				limit    int
				want     []string
			}{
				{"all newest first", time.Time{}, time.Time{}, 0, []string{"now", "d", "c", "b2", "b1", "a"}},
				{"limit", time.Time{}, time.Time{}, 2, []string{"now", "d"}},
				{"from inclusive", t0.Add(time.Minute), time.Time{}, 0, []string{"now", "d", "c", "b2", "b1"}},
				{"to exclusive", time.Time{}, t0.Add(2 * time.Minute), 0, []string{"b2", "b1", "a"}},
				{"window", t0.Add(time.Minute), t0.Add(3 * time.Minute), 0, []string{"c", "b2", "b1"}},
				{"empty window", t0.Add(10 * time.Minute), t0.Add(20 * time.Minute), 0, nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					db.View(func(tx *Tx) error {
						got, err := kind.list(tx, tt.from, tt.to, tt.limit)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, tt.want) {
							t.Errorf("got %v, want %v", got, tt.want)
						}
						return nil
					})
				})
			}
		})
	}
}

func TestLogsDefaultLimit(t *testing.T) {
	db := openTest(t, Options{})
	mustUpdate(t, db, func(tx *Tx) error {
		for i := range defaultLimit + 5 {
			if err := tx.AddAudit(AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), User: "u"}); err != nil {
				return err
			}
		}
		return nil
	})
	db.View(func(tx *Tx) error {
		es, err := tx.Audits(time.Time{}, time.Time{}, -1)
		if err != nil || len(es) != defaultLimit {
			t.Fatalf("got %d entries, %v", len(es), err)
		}
		if want := t0.Add((defaultLimit + 4) * time.Second); !es[0].Time.Equal(want) {
			t.Errorf("first = %v, want newest %v", es[0].Time, want)
		}
		return nil
	})
}

func TestSystem(t *testing.T) {
	db := openTest(t, Options{})
	db.View(func(tx *Tx) error {
		s, err := tx.System()
		if err != nil || s != (System{}) {
			t.Errorf("unset System = %+v, %v", s, err)
		}
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutSystem(System{Title: "Hotline 热线"}) })
	db.View(func(tx *Tx) error {
		s, err := tx.System()
		if err != nil || s.Title != "Hotline 热线" {
			t.Errorf("System = %+v, %v", s, err)
		}
		return nil
	})
}

func TestKeysSortByTime(t *testing.T) {
	a := recordKey(prefixAudit, t0, 7)
	b := recordKey(prefixAudit, t0.Add(time.Nanosecond), 1)
	if bytes.Compare(a, b) >= 0 {
		t.Error("later record key does not sort after")
	}
	if !strings.HasPrefix(string(sessionKey("x")), prefixSession) || len(sessionKey("x")) != len(prefixSession)+64 {
		t.Errorf("session key %q", sessionKey("x"))
	}
}

func TestTxnTooBig(t *testing.T) {
	db := openTest(t, Options{})
	big := strings.Repeat("x", 500) // under ValueThreshold: counted in full
	err := db.Update(func(tx *Tx) error {
		for i := range 2000 {
			if err := tx.AddAudit(AuditEntry{User: "u", Detail: big, Time: t0.Add(time.Duration(i))}); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, ErrTxnTooBig) {
		t.Fatalf("err = %v, want ErrTxnTooBig", err)
	}
	db.View(func(tx *Tx) error {
		if es, _ := tx.Audits(time.Time{}, time.Time{}, 0); len(es) != 0 {
			t.Errorf("%d entries of a failed transaction were written", len(es))
		}
		return nil
	})
	if err := db.View(func(tx *Tx) error { return tx.PutSystem(System{}) }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write in View = %v, want ErrReadOnly", err)
	}
}
