package flows

import (
	"context"
	"slices"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// DefaultViewCache is how many instances' last read views an engine keeps
// (see WithViewCache).
const DefaultViewCache = 1024

// WithViewCache sets how many instances the engine keeps as last read for
// a view (the instance, its tasks and audit trail), for the readers that
// ask for a state at least as new as a version they know (ViewAtLeast): a
// commit's cards to the applicant, the other signers and the next
// assignees are rendered from one read instead of one each. It serves a
// store that reads a view in one go (ViewReader), so that a kept view is
// one state of the store. 0 disables it. The cache is bounded, least
// recently used first out.
func WithViewCache(size int) Option {
	return func(e *Engine) { e.views = newViewCache(size) }
}

// ViewAtLeast returns a context in which Engine.Instance may answer from a
// view read earlier if it shows version or a later one, rather than read
// the store. A card delivered for a commit asks for the commit's version:
// a kept view at it or later shows all the commit did, and if a later
// commit is not in it, that commit's own cards bring it (each card records
// the version it shows, and a newer one replaces it). Without it, or with
// version 0, Instance reads the store.
func ViewAtLeast(ctx context.Context, version int64) context.Context {
	if version <= 0 {
		return ctx
	}
	return context.WithValue(ctx, viewAtLeastKey{}, version)
}

type viewAtLeastKey struct{}

// viewCache keeps the last read view of each instance, newest version
// wins. An instance's version grows with every change to it, its tasks or
// its audit trail (the engine sets Change.Instance on every change), so a
// kept view of version v is exactly the store's state at v.
type viewCache struct {
	lru *lru.Cache[string, viewSnapshot] // nil when disabled
	// reads shares a read of an instance among the readers that miss the
	// cache at once: the cards of one commit are delivered in parallel and
	// would otherwise each read the view the first one is reading.
	reads singleflight.Group
}

type viewSnapshot struct {
	inst  Instance
	tasks []Task
	audit []AuditEntry
}

func newViewCache(size int) *viewCache {
	if size <= 0 {
		return &viewCache{}
	}
	c, err := lru.New[string, viewSnapshot](size)
	if err != nil { // only for size <= 0, excluded above
		panic(err)
	}
	return &viewCache{lru: c}
}

// wanted reports whether ctx asks for a kept view, and from which version.
func (c *viewCache) wanted(ctx context.Context) (int64, bool) {
	least, _ := ctx.Value(viewAtLeastKey{}).(int64)
	return least, c.lru != nil && least > 0
}

// get returns a kept view of id when ctx asks for one at least as new as
// it is. The slices are the caller's to change.
func (c *viewCache) get(ctx context.Context, id string) (viewSnapshot, bool) {
	least, ok := c.wanted(ctx)
	if !ok {
		return viewSnapshot{}, false
	}
	s, ok := c.lru.Get(id)
	if !ok || s.inst.Version < least {
		return viewSnapshot{}, false
	}
	s.tasks, s.audit = slices.Clone(s.tasks), slices.Clone(s.audit)
	return s, true
}

// keep remembers a view just read for a reader that asks for kept views
// (the other cards of its commit will), unless a newer one is kept; other
// readers (the API, the console) neither use nor fill the cache. Views of
// finished instances are kept too: their last cards (finished, to the
// applicant; closed, to every signer) are rendered from them.
func (c *viewCache) keep(ctx context.Context, s viewSnapshot) {
	if _, ok := c.wanted(ctx); !ok {
		return
	}
	if old, ok := c.lru.Peek(s.inst.ID); ok && old.inst.Version > s.inst.Version {
		return
	}
	s.tasks, s.audit = slices.Clone(s.tasks), slices.Clone(s.audit)
	c.lru.Add(s.inst.ID, s)
}

// read returns the view of id through fn, the store's read, for a reader
// that missed the cache. Readers that ask for kept views share a read in
// flight: one that joins a read gets its view when it is at least as new as
// it asks, and reads again when it is older (it began before the commit the
// reader knows of) or failed (perhaps for the first reader's reason only,
// its context ending).
func (c *viewCache) read(ctx context.Context, id string, fn func() (viewSnapshot, error)) (viewSnapshot, error) {
	least, ok := c.wanted(ctx)
	if !ok {
		return fn()
	}
	v, err, shared := c.reads.Do(id, func() (any, error) {
		s, err := fn()
		if err == nil {
			c.keep(ctx, s)
		}
		return s, err
	})
	if !shared {
		s, _ := v.(viewSnapshot)
		return s, err
	}
	if s, _ := v.(viewSnapshot); err == nil && s.inst.Version >= least {
		s.tasks, s.audit = slices.Clone(s.tasks), slices.Clone(s.audit)
		return s, nil
	}
	s, err := fn()
	if err == nil {
		c.keep(ctx, s)
	}
	return s, err
}
