package store

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// extCache keeps decoded extensions for the call path, which reads the
// same few on every call (the caller's credentials, its settings, the
// callee's): a Badger read and a JSON decode each time cost more than the
// rest of the lookup. Every committed write that touches an extension key,
// and every restore, moves the generation on and empties the cache, so a
// read never returns what a finished write replaced.
// extCacheMax bounds the cache: a small business's extensions all fit,
// and a box with tens of thousands (each ~1.5 KB decoded) keeps only some.
const extCacheMax = 2048

type extCache struct {
	gen atomic.Uint64
	mu  sync.RWMutex
	m   map[string]cachedExt
}

type cachedExt struct {
	gen uint64
	e   Extension
}

// invalidate forgets every cached extension. Called after the write is
// visible to new reads, so a read that started before it stores its entry
// under the old generation, which no later read accepts.
func (c *extCache) invalidate() {
	c.gen.Add(1)
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

func (c *extCache) get(number string, gen uint64) (Extension, bool) {
	c.mu.RLock()
	ce, ok := c.m[number]
	c.mu.RUnlock()
	if !ok || ce.gen != gen {
		return Extension{}, false
	}
	return ce.e, true
}

func (c *extCache) put(number string, gen uint64, e Extension) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return // a write finished meanwhile: e may be what it replaced
	}
	if c.m == nil {
		c.m = make(map[string]cachedExt)
	}
	if _, ok := c.m[number]; !ok && len(c.m) >= extCacheMax {
		for k := range c.m { // an arbitrary one: the map's order is random
			delete(c.m, k)
			break
		}
	}
	c.m[number] = cachedExt{gen: gen, e: e}
}

// touchesExtensions reports whether a write to key changes an extension.
func touchesExtensions(key []byte) bool { return bytes.HasPrefix(key, []byte(prefixExt)) }

// Extension returns extension number as tx.Extension does, from memory
// when no write has touched extensions since it was last read. Only
// extensions that exist are kept (numbers dialled at random are not), at
// most extCacheMax of them. The result is a copy
// the caller may keep; its slices are shared and must not be changed.
func (db *DB) Extension(number string) (Extension, error) {
	gen := db.exts.gen.Load()
	if e, ok := db.exts.get(number, gen); ok {
		return e, nil
	}
	var e Extension
	err := db.View(func(tx *Tx) (err error) {
		e, err = tx.Extension(number)
		return err
	})
	if err == nil {
		db.exts.put(number, gen, e)
	}
	return e, err
}
