package store

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A backup file is:
//
//	CCBOX-BACKUP 1\n
//	{"schema":1,"created":"2026-01-02T15:04:05Z"}\n
//	gzip(Badger backup stream)
//
// The Badger stream is a sequence of frames, each a little-endian uint64 length
// and a protobuf KVList. Sessions are left out: a restored box starts with
// everyone logged out.
const backupMagic = "CCBOX-BACKUP 1\n"

// maxBackupFrame bounds one frame of the Badger stream. Badger's Load allocates
// a frame's length up front, so a forged length must be refused before it sees
// it. Our own backups stream with maxStreamSize and stay far below this.
const maxBackupFrame = 64 << 20

// maxStreamSize is the soft size of one frame when writing a backup.
const maxStreamSize = 4 << 20

// loadPendingWrites bounds Badger's in-flight batches while loading.
const loadPendingWrites = 4

// backupHeader is the JSON line after the magic.
type backupHeader struct {
	Schema  int    `json:"schema"`
	Created string `json:"created"` // RFC 3339
}

// Backup writes a backup of everything except sessions to w. It reads one
// consistent snapshot and may run while the box is busy.
func (db *DB) Backup(w io.Writer) error {
	unlock, err := db.acquire()
	if err != nil {
		return err
	}
	defer unlock()

	hdr, err := json.Marshal(backupHeader{
		Schema:  db.SchemaVersion(),
		Created: db.now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		return fmt.Errorf("store: backup header: %w", err)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(backupMagic)
	bw.Write(hdr)
	bw.WriteByte('\n')
	gz := gzip.NewWriter(bw)

	stream := db.bdb.NewStream()
	stream.LogPrefix = "store.Backup"
	stream.NumGo = 2
	stream.MaxSize = maxStreamSize
	session := []byte(prefixSession)
	stream.ChooseKey = func(item *badger.Item) bool { return !bytes.HasPrefix(item.Key(), session) }
	if _, err := stream.Backup(gz, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// Restore replaces the running store's contents with the backup read from r,
// entirely or not at all. r is first copied to a temporary file in the data
// directory and proven by loading it into a scratch database; only then is
// the current data saved aside, dropped and replaced. If anything fails after
// that, the saved data is put back. Input that is not a readable backup fails
// with an error wrapping ErrBadBackup and changes nothing. Sessions are not
// restored: everyone logs in again.
func (db *DB) Restore(r io.Reader) error {
	if db.readOnly {
		return ErrReadOnly
	}
	tmp, err := os.CreateTemp(db.dir, ".restore-*.backup")
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return fmt.Errorf("store: restore: read input: %w", err)
	}
	if err := db.verifyBackup(tmp); err != nil {
		return err
	}

	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return ErrClosed
	}
	return db.replace(func() error {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, body, err := openBackup(tmp)
		if err != nil {
			return err
		}
		return db.bdb.Load(body, loadPendingWrites)
	})
}

// RestoreDir restores a backup into the store in dir, which must not be open
// (a stopped box).
func RestoreDir(dir string, r io.Reader) (err error) {
	db, err := Open(Options{Dir: dir})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	return db.Restore(r)
}

// verifyBackup checks the magic and header of the backup in f and loads its
// whole stream into a scratch database in a temporary directory.
func (db *DB) verifyBackup(f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	hdr, body, err := openBackup(f)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(db.dir, ".restore-check-*")
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer os.RemoveAll(dir)
	scratch, err := badger.Open(badgerOptions(dir, db.log).WithSyncWrites(false))
	if err != nil {
		return fmt.Errorf("store: restore: open scratch database: %w", err)
	}
	defer scratch.Close()
	if err := scratch.Load(body, loadPendingWrites); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	v, err := schemaOf(scratch)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	if v != hdr.Schema {
		return fmt.Errorf("%w: header says schema %d, data holds %d", ErrBadBackup, hdr.Schema, v)
	}
	return nil
}

// openBackup reads the magic and header from r and returns the decompressed,
// frame-checked Badger stream that follows.
func openBackup(r io.Reader) (backupHeader, io.Reader, error) {
	var hdr backupHeader
	br := bufio.NewReader(r)
	magic := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != backupMagic {
		return hdr, nil, fmt.Errorf("%w: missing %q magic", ErrBadBackup, backupMagic[:len(backupMagic)-1])
	}
	line, err := br.ReadSlice('\n') // bounded by the reader's 4 KB buffer
	if err != nil {
		return hdr, nil, fmt.Errorf("%w: header: %w", ErrBadBackup, err)
	}
	if err := json.Unmarshal(line, &hdr); err != nil {
		return hdr, nil, fmt.Errorf("%w: header: %w", ErrBadBackup, err)
	}
	if _, err := time.Parse(time.RFC3339, hdr.Created); err != nil {
		return hdr, nil, fmt.Errorf("%w: header created: %w", ErrBadBackup, err)
	}
	switch {
	case hdr.Schema > CurrentSchema:
		return hdr, nil, fmt.Errorf("%w: %w: backup is schema %d, this build knows up to %d",
			ErrBadBackup, ErrSchemaNewer, hdr.Schema, CurrentSchema)
	case hdr.Schema < 1:
		return hdr, nil, fmt.Errorf("%w: header schema %d", ErrBadBackup, hdr.Schema)
	}
	gz, err := gzip.NewReader(br)
	if err != nil {
		return hdr, nil, fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	return hdr, &frameReader{r: gz}, nil
}

// schemaOf reads meta/schema from a Badger database (0 when absent).
func schemaOf(bdb *badger.DB) (int, error) {
	v := 0
	err := bdb.View(func(txn *badger.Txn) error {
		err := (&Tx{txn: txn}).getJSON([]byte(keySchema), &v)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	return v, err
}

// replace swaps the store's contents for what load writes, putting the
// previous contents back if DropAll, load or the migrations fail. The caller
// holds db.mu exclusively.
func (db *DB) replace(load func() error) error {
	saved, err := os.CreateTemp(db.dir, ".rollback-*.badger")
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	keep := false
	defer func() {
		saved.Close()
		if !keep {
			os.Remove(saved.Name())
		}
	}()
	// The rollback copy keeps sessions too: if we go back, nobody is logged out.
	if _, err := db.bdb.Backup(saved, 0); err != nil {
		return fmt.Errorf("store: restore: save current data: %w", err)
	}
	if err := saved.Sync(); err != nil {
		return fmt.Errorf("store: restore: save current data: %w", err)
	}

	// Whatever happens below, the extensions read before are not to be
	// trusted (on return, and until then nothing reads: db.mu is held).
	defer db.exts.invalidate()
	err = db.bdb.DropAll()
	if err == nil {
		err = load()
	}
	if err == nil {
		err = db.migrate()
	}
	if err == nil {
		return nil
	}

	rbErr := db.bdb.DropAll()
	if rbErr == nil {
		_, rbErr = saved.Seek(0, io.SeekStart)
	}
	if rbErr == nil {
		rbErr = db.bdb.Load(bufio.NewReader(saved), loadPendingWrites)
	}
	if rbErr == nil {
		rbErr = db.migrate()
	}
	if rbErr != nil {
		keep = true
		db.log.Error("restore failed and the previous data could not be put back; it is kept in a file",
			"file", saved.Name(), "err", rbErr)
		return fmt.Errorf("store: restore: %w (putting the previous data back also failed, saved in %s: %v)",
			err, saved.Name(), rbErr)
	}
	return fmt.Errorf("store: restore (previous data put back): %w", err)
}

// frameReader passes a Badger backup stream through, refusing a frame whose
// length prefix exceeds maxBackupFrame before the last byte of that prefix
// reaches the reader (so Badger never allocates it).
type frameReader struct {
	r    io.Reader
	hdr  [8]byte
	nhdr int    // bytes of the current length prefix seen
	body uint64 // bytes left in the current frame's body
}

// errFrameTooLarge is the frameReader's refusal.
var errFrameTooLarge = errors.New("backup frame exceeds size limit")

func (f *frameReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	for i := 0; i < n; {
		if f.body > 0 {
			skip := min(uint64(n-i), f.body)
			i += int(skip)
			f.body -= skip
			continue
		}
		f.hdr[f.nhdr] = p[i]
		f.nhdr++
		i++
		if f.nhdr < len(f.hdr) {
			continue
		}
		f.nhdr = 0
		size := binary.LittleEndian.Uint64(f.hdr[:])
		if size > maxBackupFrame {
			return i - 1, fmt.Errorf("%w: %w (%d bytes)", ErrBadBackup, errFrameTooLarge, size)
		}
		f.body = size
	}
	if errors.Is(err, io.EOF) && (f.nhdr != 0 || f.body != 0) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
