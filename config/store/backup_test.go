package store

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// snapshot is everything a backup carries, for comparing stores.
type snapshot struct {
	Users  []User
	Tokens []Token
	Logins []LoginEntry
	Audits []AuditEntry
	System System
	Schema int
}

func takeSnapshot(t *testing.T, db *DB) snapshot {
	t.Helper()
	var s snapshot
	err := db.View(func(tx *Tx) error {
		var err error
		if s.Users, err = tx.Users(); err != nil {
			return err
		}
		if s.Tokens, err = tx.Tokens(""); err != nil {
			return err
		}
		if s.Logins, err = tx.Logins(time.Time{}, time.Time{}, 0); err != nil {
			return err
		}
		if s.Audits, err = tx.Audits(time.Time{}, time.Time{}, 0); err != nil {
			return err
		}
		s.System, err = tx.System()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Schema = db.SchemaVersion()
	return s
}

// fill writes one of everything, tagged so two stores differ.
func fill(t *testing.T, db *DB, tag string) {
	t.Helper()
	mustUpdate(t, db, func(tx *Tx) error {
		for _, u := range []User{
			{Name: "admin-" + tag, Role: RoleAdmin, PasswordHash: "hash-" + tag},
			{Name: "agent-" + tag, Role: RoleAgent, DisplayName: "Agent " + tag, Language: "en"},
		} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		if err := tx.PutToken(Token{ID: "tok-" + tag, User: "admin-" + tag, SecretHash: HashSecret(tag)}); err != nil {
			return err
		}
		if err := tx.PutSession(Session{ID: "sess-" + tag, User: "admin-" + tag, Expires: time.Now().Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.AddLogin(LoginEntry{User: "admin-" + tag, Result: LoginOK}); err != nil {
			return err
		}
		if err := tx.AddAudit(AuditEntry{User: "admin-" + tag, Action: "user.create", Object: "agent-" + tag}); err != nil {
			return err
		}
		return tx.PutSystem(System{Title: "Box " + tag})
	})
}

func hasSession(t *testing.T, db *DB, id string) bool {
	t.Helper()
	found := false
	err := db.View(func(tx *Tx) error {
		_, err := tx.Session(id)
		found = err == nil
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func backupOf(t *testing.T, db *DB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := db.Backup(&buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	return buf.Bytes()
}

// onlyDB fails if anything but the Badger directory is left in dir.
func onlyDB(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "db" {
			t.Errorf("left behind in data dir: %s", e.Name())
		}
	}
}

func TestBackupFormat(t *testing.T) {
	db := openTest(t, Options{})
	fill(t, db, "a")
	br := bufio.NewReader(bytes.NewReader(backupOf(t, db)))
	magic, _ := br.ReadString('\n')
	if magic != "CCBOX-BACKUP 1\n" {
		t.Errorf("magic = %q", magic)
	}
	line, _ := br.ReadBytes('\n')
	var hdr struct {
		Schema  int    `json:"schema"`
		Created string `json:"created"`
	}
	if err := json.Unmarshal(line, &hdr); err != nil {
		t.Fatalf("header %q: %v", line, err)
	}
	if _, err := time.Parse(time.RFC3339, hdr.Created); err != nil || hdr.Schema != CurrentSchema {
		t.Errorf("header = %+v (%v)", hdr, err)
	}
	if _, err := gzip.NewReader(br); err != nil {
		t.Errorf("body is not gzip: %v", err)
	}
}

func TestBackupRestore(t *testing.T) {
	src := openTest(t, Options{})
	fill(t, src, "a")
	want := takeSnapshot(t, src)
	data := backupOf(t, src)

	dst := openTest(t, Options{})
	fill(t, dst, "b")
	if err := dst.Restore(bytes.NewReader(data)); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := takeSnapshot(t, dst); !reflect.DeepEqual(got, want) {
		t.Errorf("restored store differs\n got %+v\nwant %+v", got, want)
	}
	if hasSession(t, dst, "sess-a") {
		t.Error("sessions were backed up")
	}
	if hasSession(t, dst, "sess-b") {
		t.Error("the replaced store's sessions survived")
	}
	onlyDB(t, dst.dir)

	// The restored store keeps working and backs up the same again.
	fill(t, dst, "c")
	if n := len(takeSnapshot(t, dst).Users); n != 4 {
		t.Errorf("users after restore + fill = %d", n)
	}
}

func TestRestoreDir(t *testing.T) {
	src := openTest(t, Options{})
	fill(t, src, "a")
	want := takeSnapshot(t, src)
	data := backupOf(t, src)

	dir := t.TempDir()
	dst, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, dst, "b")
	dst.Close()

	if err := RestoreDir(dir, bytes.NewReader(data)); err != nil {
		t.Fatalf("RestoreDir: %v", err)
	}
	dst = openTest(t, Options{Dir: dir})
	if got := takeSnapshot(t, dst); !reflect.DeepEqual(got, want) {
		t.Errorf("restored store differs\n got %+v\nwant %+v", got, want)
	}
}

// gzipped compresses b.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(b)
	gz.Close()
	return buf.Bytes()
}

func TestRestoreRefusesBadInput(t *testing.T) {
	src := openTest(t, Options{})
	fill(t, src, "a")
	good := backupOf(t, src)
	header := func(schema int) string {
		return backupMagic + `{"schema":` + strconv.Itoa(schema) + `,"created":"2026-01-01T00:00:00Z"}` + "\n"
	}
	body := good[len(backupMagic)+bytes.IndexByte(good[len(backupMagic):], '\n')+1:]
	hugeFrame := binary.LittleEndian.AppendUint64(nil, 1<<40)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-20] ^= 0xff

	tests := []struct {
		name  string
		input []byte
		also  error
	}{
		{"empty", nil, nil},
		{"garbage", []byte("this is not a backup at all\n"), nil},
		{"magic only", []byte(backupMagic), nil},
		{"bad header", []byte(backupMagic + "{not json\n"), nil},
		{"header without created", []byte(backupMagic + `{"schema":1}` + "\n"), nil},
		{"newer schema", append([]byte(header(CurrentSchema+1)), body...), ErrSchemaNewer},
		{"schema zero", []byte(header(0)), nil},
		{"body not gzip", []byte(header(1) + "garbage garbage garbage"), nil},
		{"empty stream", append([]byte(header(1)), gzipped(nil)...), nil},
		{"huge frame", append([]byte(header(1)), gzipped(append(hugeFrame, 1, 2, 3))...), nil},
		{"truncated in half", good[:len(good)/2], nil},
		{"truncated trailer", good[:len(good)-4], nil},
		{"flipped byte", flipped, nil},
		{"trailing garbage", append(append([]byte(nil), good...), "xyz"...), nil},
	}
	dst := openTest(t, Options{})
	fill(t, dst, "b")
	before := takeSnapshot(t, dst)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := dst.Restore(bytes.NewReader(tt.input))
			if !errors.Is(err, ErrBadBackup) {
				t.Fatalf("Restore = %v, want ErrBadBackup", err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("Restore = %v, want also %v", err, tt.also)
			}
			if got := takeSnapshot(t, dst); !reflect.DeepEqual(got, before) {
				t.Errorf("store changed by a refused restore\n got %+v\nwant %+v", got, before)
			}
			if !hasSession(t, dst, "sess-b") {
				t.Error("a refused restore logged people out")
			}
			onlyDB(t, dst.dir)
		})
	}
}

func TestFrameReaderWithholdsOversizedPrefix(t *testing.T) {
	frame := binary.LittleEndian.AppendUint64(nil, maxBackupFrame+1)
	for _, chunk := range []int{1, 3, 8, 64} {
		t.Run(strings.Repeat("x", chunk), func(t *testing.T) {
			fr := &frameReader{r: bytes.NewReader(frame)}
			var got []byte
			buf := make([]byte, chunk)
			var err error
			for err == nil {
				var n int
				n, err = fr.Read(buf)
				got = append(got, buf[:n]...)
			}
			if !errors.Is(err, ErrBadBackup) {
				t.Fatalf("err = %v", err)
			}
			if len(got) >= 8 {
				t.Errorf("the whole oversized prefix reached the reader (%d bytes)", len(got))
			}
		})
	}
}

// TestRestoreRollsBack: a failure after the current data was dropped puts it
// all back, sessions included.
func TestRestoreRollsBack(t *testing.T) {
	db := openTest(t, Options{})
	fill(t, db, "a")
	before := takeSnapshot(t, db)
	errBoom := errors.New("boom")

	db.mu.Lock()
	err := db.replace(func() error {
		// Half a restore: something written, then a failure.
		if err := db.commit(func(tx *Tx) error {
			return tx.PutUser(User{Name: "intruder", Role: RoleAdmin})
		}); err != nil {
			return err
		}
		return errBoom
	})
	db.mu.Unlock()

	if !errors.Is(err, errBoom) {
		t.Fatalf("replace = %v, want errBoom", err)
	}
	if got := takeSnapshot(t, db); !reflect.DeepEqual(got, before) {
		t.Errorf("not rolled back\n got %+v\nwant %+v", got, before)
	}
	if !hasSession(t, db, "sess-a") {
		t.Error("rollback lost sessions")
	}
	onlyDB(t, db.dir)
}
