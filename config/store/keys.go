package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Key prefixes, one per kind (see doc.go).
const (
	prefixUser      = "user/"
	prefixSession   = "session/"
	prefixToken     = "token/"
	prefixLogin     = "login/"
	prefixAudit     = "audit/"
	prefixMeta      = "meta/"
	prefixExt       = "ext/"
	prefixReg       = "reg/"
	keySystem       = "system"
	keyFeatureCodes = "featurecodes"
	keySchema       = prefixMeta + "schema"
	keyRealm        = "sip/realm"

	prefixTrunk       = "trunk/"
	prefixDID         = "did/"
	prefixRoute       = "route/"
	prefixCallerPool  = "callerpool/"
	prefixBlacklist   = "blacklist/"
	prefixRegion      = "region/"
	keyRegionInfo     = "regioninfo"
	keyInboundDefault = "inbound/default"
	keyOutboundPolicy = "outbound/policy"
)

// recordKeyLen is a record key without its prefix: 8 bytes of time, 4 of sequence.
const recordKeyLen = 8 + 4

func userKey(name string) []byte { return []byte(prefixUser + name) }

func tokenKey(id string) []byte { return []byte(prefixToken + id) }

func extensionKey(number string) []byte { return []byte(prefixExt + number) }

func trunkKey(name string) []byte { return []byte(prefixTrunk + name) }

func didKey(number string) []byte { return []byte(prefixDID + number) }

func routeKey(name string) []byte { return []byte(prefixRoute + name) }

func callerPoolKey(name string) []byte { return []byte(prefixCallerPool + name) }

// blacklistKey holds the direction after the number, so one number may be
// listed once per direction.
func blacklistKey(number string, dir Direction) []byte {
	return []byte(prefixBlacklist + number + "/" + string(dir))
}

// regionChunkKey numbers the chunks of the region table big-endian, so a
// prefix scan returns them in order.
func regionChunkKey(i int) []byte {
	return binary.BigEndian.AppendUint32([]byte(prefixRegion), uint32(i))
}

// registrationPrefix ends with a slash so that extension 10's registrations
// are not found under extension 100's.
func registrationPrefix(ext string) string { return prefixReg + ext + "/" }

// sessionKey hashes the session ID: the database never holds a usable cookie.
func sessionKey(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return []byte(prefixSession + hex.EncodeToString(sum[:]))
}

// HashSecret is the SHA-256 hex digest used for Token.SecretHash.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// recordKey is prefix + big-endian UnixNano + big-endian seq, so keys sort by time.
func recordKey(prefix string, t time.Time, seq uint32) []byte {
	k := make([]byte, 0, len(prefix)+recordKeyLen)
	k = append(k, prefix...)
	k = binary.BigEndian.AppendUint64(k, nanos(t))
	return binary.BigEndian.AppendUint32(k, seq)
}

// timeKey is the lower bound of every record key at t (prefix + time, no sequence).
func timeKey(prefix string, t time.Time) []byte {
	k := make([]byte, 0, len(prefix)+8)
	k = append(k, prefix...)
	return binary.BigEndian.AppendUint64(k, nanos(t))
}

// nanos maps t to an unsigned sort key; times before 1970 sort as 1970.
func nanos(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}
