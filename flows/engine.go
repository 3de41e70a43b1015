package flows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Engine runs flow instances on a Store. Every operation (Start, Approve,
// Return, ...) reads the instance, checks that the acting user may do it
// now, and writes the new state with its audit rows, notification intents
// and SLA timers in ONE Store.Apply guarded by the instance's version. A
// stale version is retried on fresh state a few times, so two concurrent
// decisions on one 或签 step end with exactly one winner.
//
// Definitions live in the store: Register stores a flow's YAML as a new
// version when its hash changed, and an instance runs the version it was
// started with until it ends. Parsed versions are cached; a Flow is
// immutable, so the cache never needs invalidating.
//
// An Engine is safe for concurrent use, also by several processes sharing
// one store.
type Engine struct {
	store      Store
	now        func() time.Time
	newID      func() string
	proxies    Proxies
	proxyRules *proxyCache
	adminRole  string
	org        *orgCache
	instances  *instanceCache
	views      *viewCache
	timers     timerConfig
	slaScale   float64
	alerts     alertGens

	mu     sync.RWMutex
	cache  map[flowKey]*Flow
	latest map[string]latestVersion
}

// latestVersion is a flow's latest version as read at a time.
type latestVersion struct {
	version int
	at      time.Time
}

// latestTTL is how long Start trusts the latest version it read: a version
// registered by another process is picked up within it, and starts do not
// read the definition every time.
const latestTTL = time.Second

type flowKey struct {
	id      string
	version int
}

// maxAttempts bounds how often an operation is rebuilt on fresh state after
// losing a race (ErrStaleVersion, ErrTaskConflict) before it gives up.
const maxAttempts = 5

// Option configures an Engine.
type Option func(*Engine)

// WithClock injects the clock; tests pass a fake one so SLA deadlines, urge
// limits and proxy windows are exact.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithIDs injects the generator of instance ids. It must return a new
// unique id at every call; the default is newInstanceID. Task ids
// are "<instance id>.t0001", "….t0002", … so that a decision finds its
// instance without reading the task.
func WithIDs(newID func() string) Option { return func(e *Engine) { e.newID = newID } }

// WithProxies sets the leave proxies (代理): who may act on whose tasks, and
// when. The rules typically come from the server's configuration file.
func WithProxies(p Proxies) Option { return func(e *Engine) { e.proxies = p } }

// WithAdminRole sets the role whose holders may cancel any instance and read
// every instance; the default is DefaultAdminRole.
func WithAdminRole(role string) Option { return func(e *Engine) { e.adminRole = role } }

// WithSLAScale makes every SLA duration (the step's sla and its
// on_timeout reminders, escalation and auto-action delays; an alert step's
// group_wait, repeat_interval and escalations) last 1/scale of what the
// flow says, so a demo can show SLA timers working: scale 60 makes
// a 2h SLA pass in 2 minutes. Scale 1 (or less) leaves durations alone.
func WithSLAScale(scale float64) Option { return func(e *Engine) { e.slaScale = scale } }

// NewEngine returns an engine on store.
func NewEngine(store Store, opts ...Option) *Engine {
	e := &Engine{
		store:      store,
		now:        time.Now,
		newID:      newInstanceID,
		adminRole:  DefaultAdminRole,
		cache:      map[flowKey]*Flow{},
		latest:     map[string]latestVersion{},
		org:        newOrgCache(),
		proxyRules: &proxyCache{},
		instances:  newInstanceCache(DefaultInstanceCache),
		views:      newViewCache(DefaultViewCache),
		alerts:     alertGens{last: map[string]int{}},
	}
	for _, o := range opts {
		o(e)
	}
	if _, ok := store.(ViewReader); !ok {
		// Views are kept only of a store that reads one in one go.
		e.views = newViewCache(0)
	}
	return e
}

// sla returns a flow's SLA duration d as the engine counts it (see
// WithSLAScale).
func (e *Engine) sla(d time.Duration) time.Duration {
	if e.slaScale <= 1 || d <= 0 {
		return d
	}
	return max(time.Duration(float64(d)/e.slaScale), time.Millisecond)
}

// newInstanceID returns a UUIDv7 (RFC 9562) as 32 hex digits: 48 bits of
// Unix milliseconds, then a sequence and random bits (74 of them), so ids
// made one after another sort together. Every index keyed by an instance
// id — the instances', and their tasks', timers', audit rows' and outbox
// keys', which all begin with it — then takes new entries at its right
// edge, on pages a commit has just written, instead of at a random page
// each: fewer pages written per commit on both stores (the README has
// cardflow bench's figures before and after).
func newInstanceID() string {
	u := uuid.Must(uuid.NewV7())
	return hex.EncodeToString(u[:])
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// Register stores each flow's definition and returns the stored records in
// the same order. An unchanged file keeps its version (Store.PutDefinition
// compares hashes); a changed one becomes the flow's next version, which new
// instances start with while running ones keep theirs.
func (e *Engine) Register(ctx context.Context, flows ...*Flow) ([]Definition, error) {
	out := make([]Definition, 0, len(flows))
	for _, f := range flows {
		d := f.Definition()
		d.CreatedAt = e.now()
		stored, _, err := e.store.PutDefinition(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("flows: register %s: %w", f.ID, err)
		}
		if stored.Hash == f.Hash {
			e.remember(f.ID, stored.Version, f)
		}
		e.mu.Lock()
		e.latest[f.ID] = latestVersion{version: stored.Version, at: e.now()}
		e.mu.Unlock()
		out = append(out, stored)
	}
	return out, nil
}

// Flow returns version of a flow as parsed from the store; version 0 means
// the latest. ErrNotFound (wrapped) when there is no such definition.
func (e *Engine) Flow(ctx context.Context, flowID string, version int) (*Flow, error) {
	f, err := e.flow(ctx, flowID, version)
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	return f, nil
}

// definition reads one version of a flow from the store; 0 is the latest.
func (e *Engine) definition(ctx context.Context, flowID string, version int) (Definition, error) {
	if version > 0 {
		return e.store.Definition(ctx, flowID, version)
	}
	return e.store.LatestDefinition(ctx, flowID)
}

// flow is Flow for the engine's own operations, which wrap errors once.
func (e *Engine) flow(ctx context.Context, flowID string, version int) (*Flow, error) {
	if version > 0 {
		if f := e.cached(flowID, version); f != nil {
			return f, nil
		}
	}
	d, err := e.definition(ctx, flowID, version)
	if err != nil {
		return nil, fmt.Errorf("flow %s@%d: %w", flowID, version, err)
	}
	if f := e.cached(flowID, d.Version); f != nil {
		return f, nil
	}
	f, err := ParseDefinition(d)
	if err != nil {
		return nil, fmt.Errorf("flow %s@%d: %w", flowID, d.Version, err)
	}
	e.remember(flowID, d.Version, f)
	return f, nil
}

// latestFlow returns the latest version of a flow with its number.
func (e *Engine) latestFlow(ctx context.Context, flowID string) (*Flow, int, error) {
	now := e.now()
	e.mu.RLock()
	l, ok := e.latest[flowID]
	e.mu.RUnlock()
	if !ok || now.Before(l.at) || now.Sub(l.at) >= latestTTL {
		d, err := e.store.LatestDefinition(ctx, flowID)
		if err != nil {
			return nil, 0, fmt.Errorf("flow %s: %w", flowID, err)
		}
		l = latestVersion{version: d.Version, at: now}
		e.mu.Lock()
		e.latest[flowID] = l
		e.mu.Unlock()
	}
	f, err := e.flow(ctx, flowID, l.version)
	return f, l.version, err
}

func (e *Engine) cached(id string, version int) *Flow {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cache[flowKey{id, version}]
}

func (e *Engine) remember(id string, version int, f *Flow) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cache[flowKey{id, version}] = f
}

// attempt is one try of an operation on fresh state: it returns the change
// to apply and the answer to give, or a nil change when the answer needs no
// write (a task already decided).
type attempt func(ctx context.Context) (*Change, Result, error)

// mutate runs an operation: it applies the change built by try, rebuilds
// it on fresh state when a concurrent change won the race, and answers a
// replayed idempotency key with the first answer. The key is checked by
// Apply itself, so the common path costs no extra read; only a request
// that would write nothing or fail is looked up first, because the state
// may have moved on since its first answer (a replayed approval finds its
// task decided, a replayed withdrawal its instance finished).
//
// A key is bound to the request it came with: fp, a fingerprint of the
// operation, its target, the actor and the request's fields, is stored
// with the answer, and the same key with another fingerprint (another
// comment, another actor, another form) is refused with ErrKeyReused
// rather than answered with the first result.
func (e *Engine) mutate(ctx context.Context, op, key, target string, req any, try attempt) (Result, error) {
	if err := checkRequest(req); err != nil {
		return Result{}, fmt.Errorf("flows: %s: %w", op, err)
	}
	var fp string // only a keyed request is compared with an earlier one
	if key != "" {
		fp = fingerprint(op, target, req)
	}
	var lastErr error
	tryCtx, cached := e.instances.allow(ctx)
	for i := 0; i < maxAttempts; i++ {
		c, res, err := try(tryCtx)
		tryCtx = ctx // only a first attempt may build on a kept instance
		if cached.served != "" && (err != nil || c == nil) {
			// An answer that writes nothing has no version check: give
			// it on a fresh read only (see instanceCache).
			e.instances.drop(cached.served)
			cached.served = ""
			i--
			continue
		}
		if key != "" && (err != nil || c == nil) {
			if first, ok, kerr := e.answered(ctx, op, key, target, fp); ok || kerr != nil {
				return first, kerr
			}
		}
		if errors.Is(err, ErrStaleVersion) { // read skew between two reads
			lastErr = err
			continue
		}
		if err != nil {
			return Result{}, &OpError{Op: op, Target: target, Err: err}
		}
		res.Op, res.Target = op, target
		if c == nil {
			return res, nil
		}
		if key != "" {
			c.IdempotencyKey = key
			stored := res
			stored.Fingerprint = fp
			if c.Result, err = marshal(stored); err != nil {
				return Result{}, fmt.Errorf("flows: %s: %w", op, err)
			}
		}
		applied, err := e.store.Apply(ctx, *c)
		var dup *DuplicateError
		switch {
		case err == nil:
			e.instances.keep(c)
			e.views.committed(c, applied)
			return res, nil
		case errors.As(err, &dup):
			return replayed(op, key, target, fp, dup.Result)
		case errors.Is(err, ErrStaleVersion), errors.Is(err, ErrTaskConflict):
			if c.Instance != nil {
				e.instances.drop(c.Instance.ID)
			}
			lastErr = err
			continue
		default:
			return Result{}, &OpError{Op: op, Target: target, Err: err}
		}
	}
	return Result{}, fmt.Errorf("flows: %s %s: gave up after %d attempts: %w", op, target, maxAttempts, lastErr)
}

// answered returns the stored answer of an idempotency key, if any.
func (e *Engine) answered(ctx context.Context, op, key, target, fp string) (Result, bool, error) {
	raw, err := e.store.Idempotent(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return Result{}, false, nil
	case err != nil:
		return Result{}, false, fmt.Errorf("flows: %s: idempotency key: %w", op, err)
	}
	r, err := replayed(op, key, target, fp, raw)
	return r, true, err
}

// Definitions returns the latest version of every flow, ordered by id.
func (e *Engine) Definitions(ctx context.Context) ([]Definition, error) {
	defs, err := e.store.Definitions(ctx)
	if err != nil {
		return nil, fmt.Errorf("flows: definitions: %w", err)
	}
	return defs, nil
}
