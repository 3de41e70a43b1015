package flows

import (
	"context"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultInstanceCache is how many running instances an engine keeps as it
// last wrote them (see WithInstanceCache).
const DefaultInstanceCache = 4096

// WithInstanceCache sets how many running instances the engine keeps as it
// last wrote them, so that the next operation on one (the click on the card
// of a task it just opened) skips reading it. 0 disables the cache. The
// cache is bounded, least recently used first out; a kept instance is only
// a guess, see instanceCache.
func WithInstanceCache(size int) Option {
	return func(e *Engine) { e.instances = newInstanceCache(size) }
}

// instanceCache keeps running instances as this engine last wrote them.
//
// A kept instance may be behind the store (another process, or a change
// this engine lost), never ahead of it. That is safe for a change built on
// it: Apply checks the instance's version, and an instance's version grows
// with every change to it or its tasks, so a change built on an old copy
// fails with ErrStaleVersion and is rebuilt on a fresh read. An answer that
// writes nothing (an error, a task already decided) has no such check, so
// mutate never gives one built on a kept copy; it reads the instance and
// tries again.
type instanceCache struct {
	lru *lru.Cache[string, Instance] // nil when disabled
}

func newInstanceCache(size int) *instanceCache {
	if size <= 0 {
		return &instanceCache{}
	}
	c, err := lru.New[string, Instance](size)
	if err != nil { // only for size <= 0, excluded above
		panic(err)
	}
	return &instanceCache{lru: c}
}

// cacheUse records, for one attempt of an operation, the instance a kept
// copy was served for ("" when none was).
type cacheUse struct{ served string }

type cacheUseKey struct{}

// allow returns a context in which load may serve kept instances, and the
// record of whether it did.
func (c *instanceCache) allow(ctx context.Context) (context.Context, *cacheUse) {
	u := &cacheUse{}
	if c.lru == nil {
		return ctx, u
	}
	return context.WithValue(ctx, cacheUseKey{}, u), u
}

// get returns the kept copy of an instance when ctx allows it.
func (c *instanceCache) get(ctx context.Context, id string) (Instance, bool) {
	u, ok := ctx.Value(cacheUseKey{}).(*cacheUse)
	if !ok || c.lru == nil {
		return Instance{}, false
	}
	inst, ok := c.lru.Get(id)
	if ok {
		u.served = id
	}
	return inst, ok
}

// keep remembers the instance a committed change wrote; a finished one is
// dropped, few operations follow its end.
func (c *instanceCache) keep(ch *Change) {
	if c.lru == nil || ch.Instance == nil {
		return
	}
	inst := *ch.Instance
	if inst.Status != InstanceRunning {
		c.lru.Remove(inst.ID)
		return
	}
	inst.Version = ch.ExpectVersion + 1 // the contract's version rule
	if ch.Create {
		inst.Version = 1
	}
	c.lru.Add(inst.ID, inst)
}

// drop forgets an instance whose kept copy turned out to be behind.
func (c *instanceCache) drop(id string) {
	if c.lru != nil && id != "" {
		c.lru.Remove(id)
	}
}
