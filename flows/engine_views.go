package flows

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// DefaultViewCache is how many instances' views an engine keeps (see
// WithViewCache): as many as the instances it keeps (DefaultInstanceCache),
// so that a click on a card it sent finds both, and neither the decision
// nor its answer and cards read the store.
const DefaultViewCache = DefaultInstanceCache

// WithViewCache sets how many instances the engine keeps a view of (the
// instance, its tasks and audit trail), as it last read or wrote them, for
// the readers that ask for a state at least as new as a version they know
// (ViewAtLeast): a commit's cards to the applicant, the other signers and
// the next assignees, and the answer to the click that made it, are
// rendered from the view the commit kept, or from one read. It serves a
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

// viewCache keeps the last view of each instance this engine read or
// wrote, newest version wins. An instance's version grows with every change to it, its tasks or
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
	// decoded is the instance's state and form, decoded once for every
	// reader of the view (each card of a commit renders from it).
	decoded *decodedView
}

// newSnapshot is a view of inst with its tasks and audit trail.
func newSnapshot(inst Instance, tasks []Task, audit []AuditEntry) viewSnapshot {
	return viewSnapshot{inst: inst, tasks: tasks, audit: audit, decoded: &decodedView{}}
}

// decodedView is the decoding of one kept view's state and form, done by
// the first reader that needs it. What it holds is shared by every reader
// and only ever read: Engine.Instance builds views from it and changes
// nothing in it.
type decodedView struct {
	once sync.Once
	st   *runState
	form map[string]any
	err  error
}

// decode returns the state and form of inst, the kept view's instance.
func (d *decodedView) decode(inst Instance) (*runState, map[string]any, error) {
	d.once.Do(func() {
		if d.st, d.err = decodeState(inst.State); d.err != nil {
			return
		}
		d.form = map[string]any{}
		if len(inst.Form) > 0 {
			d.form, d.err = decodeObject(inst.Form)
		}
	})
	return d.st, d.form, d.err
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
	s.tasks, s.audit = slices.Clone(s.tasks), slices.Clone(s.audit)
	c.put(s)
}

// put keeps s unless a newer view of its instance is kept.
func (c *viewCache) put(s viewSnapshot) {
	if old, ok := c.lru.Peek(s.inst.ID); ok && old.inst.Version > s.inst.Version {
		return
	}
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

// committed keeps the view of the instance the change ch changed, as the
// store now holds it, when that is known without a read: ch created the
// instance (the change is all there is of it: the instance, its first
// tasks and audit lines), or the view kept of it shows exactly the version
// ch was built on, and ch's task updates, new tasks and audit lines applied
// to it give the next one, as the stores apply them. So the answer to a
// click and the cards of its commit need no read. Values are kept as the
// stores read them back: times in UTC to the microsecond, an empty
// document as none. A store that does not report the audit Seqs it gave
// has its views read.
func (c *viewCache) committed(ch *Change, a Applied) {
	if c.lru == nil || ch.Instance == nil || len(a.AuditSeqs) != len(ch.Audit) {
		return
	}
	s := newSnapshot(*ch.Instance, nil, nil)
	if !ch.Create {
		old, ok := c.lru.Peek(ch.Instance.ID)
		if !ok || old.inst.Version != ch.ExpectVersion || a.InstanceVersion != ch.ExpectVersion+1 {
			return
		}
		s.tasks, s.audit = slices.Clone(old.tasks), slices.Clone(old.audit)
	}
	s.inst.Version = a.InstanceVersion
	s.inst.CreatedAt, s.inst.UpdatedAt = storedTime(s.inst.CreatedAt), storedTime(s.inst.UpdatedAt)
	s.inst.Form, s.inst.State = storedJSON(s.inst.Form), storedJSON(s.inst.State)
	for _, u := range ch.TaskUpdates {
		i := slices.IndexFunc(s.tasks, func(t Task) bool { return t.ID == u.ID })
		if i < 0 {
			return // beyond the tasks a view lists
		}
		t := &s.tasks[i]
		u.applyTo(t)
		t.Result, t.DecidedAt = storedJSON(t.Result), storedTime(t.DecidedAt)
	}
	for _, t := range ch.NewTasks {
		t.Result = storedJSON(t.Result)
		t.DueAt, t.CreatedAt, t.DecidedAt = storedTime(t.DueAt), storedTime(t.CreatedAt), storedTime(t.DecidedAt)
		s.tasks = append(s.tasks, t)
	}
	if len(s.tasks) > maxInstanceTasks {
		return
	}
	// The order the stores list an instance's tasks in.
	slices.SortStableFunc(s.tasks, func(x, y Task) int {
		if d := x.CreatedAt.Compare(y.CreatedAt); d != 0 {
			return d
		}
		return strings.Compare(x.ID, y.ID)
	})
	for i, e := range ch.Audit {
		e.Seq, e.Detail, e.At = a.AuditSeqs[i], storedJSON(e.Detail), storedTime(e.At)
		s.audit = append(s.audit, e)
	}
	c.put(s)
}

// storedTime is t as a store reads it back: UTC, to the microsecond.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// storedJSON is a document as a store reads it back: an empty one is none.
func storedJSON(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return m
}
