// Package store is the appliance's persistent state: one Badger v4 database in
// <data dir>/db holding users, sessions, API tokens, the login and audit logs,
// system settings, the feature-code table, SIP extensions, the SIP realm and registrations,
// trunks, DIDs, outbound routes, caller-number pools, the blacklist, the
// region table and the outbound policy, with typed repositories on a
// transaction (Tx), trunk secrets sealed under a key file, schema migrations, value-log garbage collection, metrics, and backup/restore.
//
// It must not import media, pbx, webui or appliance: every other part of the
// box depends on it, never the reverse. Packages that need storage declare the
// small interface they use and are handed a *DB by the composition root.
//
// # Key schema
//
// One prefix per kind; values are JSON.
//
//	user/<name>                   User
//	session/<hex sha256(id)>      Session (Badger TTL at Expires)
//	token/<id>                    Token (SecretHash = hex sha256(secret))
//	login/<be64 unixnano><be32>   LoginEntry
//	audit/<be64 unixnano><be32>   AuditEntry
//	meta/schema                   schema version (JSON number)
//	system                        System
//	featurecodes                  FeatureCodes (absent: DefaultFeatureCodes)
//	ext/<number>                  Extension (secrets only as HA1 per algorithm)
//	sip/realm                     the SIP digest realm (JSON string), set once by EnsureRealm
//	reg/<extension>/<id>          Registration (Badger TTL at Expires)
//	trunk/<name>                  Trunk (secret sealed: see below)
//	did/<number>                  DID
//	inbound/default               Destination of calls no DID names (absent: 404)
//	route/<name>                  OutboundRoute
//	callerpool/<name>             CallerPool
//	blacklist/<number>/<dir>      BlacklistEntry (one per number and direction)
//	region/<be32 chunk>           []RegionRow, 20,000 rows a chunk, sorted by prefix
//	regioninfo                    RegionInfo
//	outbound/policy               OutboundPolicy (absent: DefaultOutboundPolicy)
//
// Record keys put the big-endian time first and a 4-byte per-process sequence
// after it, so a prefix scan returns records in time order and two records in
// the same nanosecond keep distinct keys. Sessions are keyed by a hash of their
// ID so that a copied database file does not yield live cookies.
//
// # Secrets
//
// Trunk digest passwords are needed in plaintext (the box answers the
// carrier's challenge), so they cannot be hashed like extension secrets.
// They are sealed with AES-256-GCM (DB.SealSecret, DB.OpenSecret, and the
// trunk helpers SealTrunkSecret and TrunkSecret) under a random key kept in
// <data dir>/secrets.key (mode 0600, created on first use), outside the
// database: the database or a backup alone does not yield them. The record
// holds only the sealed form (Trunk.SealedSecret); the caller seals before
// PutTrunk and opens when it needs the password. A missing key file is
// ErrNoSecretKey, a key that does not open a value ErrSecretKey.
//
// # Memory
//
// Badger's defaults reserve hundreds of MB (a 64 MB memtable ×5, a 256 MB block
// cache, Snappy builders with 2×NumCPU goroutines). The appliance must idle
// under 60 MB RSS in total, so Open uses:
//
//	MemTableSize            4 MB   arena ≈ 4.7 MB on the Go heap, plus an mmapped WAL of 2×4 MB;
//	                               one transaction may carry at most 15% of it (≈ 600 KB), which
//	                               is still thousands of users
//	NumMemtables            2      at most 2 immutable memtables queued for flush (+1 active)
//	NumLevelZeroTables      2      compact L0 early: few, small tables to search
//	NumLevelZeroTablesStall 8      stall writers rather than grow without bound
//	BaseTableSize           1 MB   SST size; a table builder's buffer is about 2× this
//	BaseLevelSize           4 MB
//	NumCompactors           2      Badger's minimum; one prioritises L0
//	ValueThreshold          1 KB   small JSON stays in the LSM; large values go to the vlog
//	ValueLogFileSize        16 MB  mmapped at 2× while written; small files are GC'd sooner
//	Compression             none   compressing builders cost tens of MB of heap per burst;
//	                               disk is cheaper than RAM here
//	BlockCacheSize          0      with no compression blocks are read straight from the
//	                               mmapped tables; the kernel's page cache is the cache
//	IndexCacheSize          2 MB   bounds decoded table indexes
//	NumGoroutines           2      stream (backup) workers; the box has few cores
//	MetricsEnabled          false  Badger's expvar metrics are process globals; we export our own
//
// Measured on this build: opening adds about 3 MB of anonymous memory. A burst
// of 100,000 audit records in half a second peaks near 30 MB anonymous and
// falls back to about 7 MB of heap within 20 s (Badger's allocator pool frees
// one idle table-builder buffer every 2 s). Mmapped table and log pages also
// show in RSS as file-backed memory; the kernel reclaims them under pressure.
//
// # Durability
//
// SyncWrites is on: when Update returns nil the write is on disk and survives
// kill -9 or power loss. The directory is locked with flock (exclusive for
// read-write, shared for ReadOnly) so a second process gets ErrLocked.
//
// A ReadOnly open never writes to the data directory. Data left by a crash
// needs its logs replayed, which Badger cannot do read-only; Open then copies
// the Badger files to a temporary directory, recovers the copy and reads that
// (Close removes it), so `appliance export` works on a box that died.
//
// # Schema and migrations
//
// meta/schema holds the version; migrations() lists one step per version and
// Open runs the missing steps, each in one transaction that also stamps the new
// version. A database with a newer schema than this build knows is refused
// (ErrSchemaNewer) rather than misread.
package store
