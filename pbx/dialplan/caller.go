package dialplan

import "math/rand/v2"

// CallerNumber is one outbound number of a caller pool, tagged with its
// region.
type CallerNumber struct {
	Number   string
	Region   Region
	MaxCalls int // concurrent calls presenting this number; 0: no limit
}

// closeness ranks a pool number against the callee's region: 0 same city,
// 1 same province, 2 anything else.
func closeness(c Region, callee Region, known bool) int {
	if !known {
		return 2
	}
	sameProvince := c.Province != "" && c.Province == callee.Province
	if c.City != "" && c.City == callee.City && (sameProvince || c.Province == "" || callee.Province == "") {
		return 0
	}
	if sameProvince {
		return 1
	}
	return 2
}

// PickCaller chooses the caller number for a call to a callee in region
// callee (known false: the callee's region is not in the table): a number of
// the same city, else of the same province, else any — at random among the
// equally close, so that calls spread over the numbers (seed 003 §6: callees
// answer local numbers more often). Numbers at their concurrent-call limit
// (active(number) >= MaxCalls) are skipped. active nil counts nothing;
// rnd(n) returns an int in [0, n) and may be nil (math/rand). It does not
// allocate. ErrNoCallerNumber when no number is left.
func PickCaller(pool []CallerNumber, callee Region, known bool, active func(number string) int, rnd func(n int) int) (CallerNumber, error) {
	usable := func(c *CallerNumber) bool {
		return c.MaxCalls <= 0 || active == nil || active(c.Number) < c.MaxCalls
	}
	// One pass counts the usable numbers at each closeness, a second takes
	// the k-th of the best: no slice to build.
	var count [3]int
	for i := range pool {
		if usable(&pool[i]) {
			count[closeness(pool[i].Region, callee, known)]++
		}
	}
	best := -1
	for lvl, c := range count {
		if c > 0 {
			best = lvl
			break
		}
	}
	if best < 0 {
		return CallerNumber{}, ErrNoCallerNumber
	}
	if rnd == nil {
		rnd = rand.IntN
	}
	k := rnd(count[best])
	if k < 0 || k >= count[best] {
		k = 0
	}
	for i := range pool {
		c := &pool[i]
		if closeness(c.Region, callee, known) != best || !usable(c) {
			continue
		}
		if k == 0 {
			return *c, nil
		}
		k--
	}
	// active changed its answer between the passes; take the first usable.
	for i := range pool {
		if usable(&pool[i]) {
			return pool[i], nil
		}
	}
	return CallerNumber{}, ErrNoCallerNumber
}

// FillRegions returns a copy of pool in which each number without a region
// is tagged from the table (numbers it does not know keep an empty region,
// and so only ever serve as "any").
func (t *RegionTable) FillRegions(p NumberPlan, pool []CallerNumber) []CallerNumber {
	out := make([]CallerNumber, len(pool))
	copy(out, pool)
	for i := range out {
		if out[i].Region != (Region{}) {
			continue
		}
		n, err := p.Normalize(out[i].Number)
		if err != nil {
			continue
		}
		if reg, ok := t.Lookup(n); ok {
			out[i].Region = reg
		}
	}
	return out
}
