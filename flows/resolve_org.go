package flows

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultOrgTTL is how long the engine reuses an org directory lookup (a
// user, a role's holders, a department). The directory changes when an
// operator reloads the org file; every start and most decisions resolve
// assignees, and reading the directory each time would cost a database
// round trip per step.
const DefaultOrgTTL = 5 * time.Second

// WithOrgTTL sets how long org directory lookups are reused; 0 reads the
// store every time.
func WithOrgTTL(ttl time.Duration) Option { return func(e *Engine) { e.org.ttl = ttl } }

// orgCache remembers successful directory lookups for ttl. Misses are not
// remembered, so a user added to the directory is found at once.
type orgCache struct {
	ttl   time.Duration
	mu    sync.Mutex
	users map[string]cached[User]
	// byPlatform is keyed by platform and platform user id.
	byPlatform map[string]cached[User]
	roles      map[string]cached[[]User]
	depts      map[string]cached[Department]
}

type cached[T any] struct {
	v  T
	at time.Time
}

func newOrgCache() *orgCache {
	return &orgCache{ttl: DefaultOrgTTL, users: map[string]cached[User]{}, byPlatform: map[string]cached[User]{},
		roles: map[string]cached[[]User]{}, depts: map[string]cached[Department]{}}
}

// lookup returns m[key] when it is fresh at now, else reads it with read
// and remembers it.
func lookup[T any](c *orgCache, m map[string]cached[T], key string, now time.Time, read func() (T, error)) (T, error) {
	if c.ttl > 0 {
		c.mu.Lock()
		x, ok := m[key]
		c.mu.Unlock()
		if ok && !now.Before(x.at) && now.Sub(x.at) < c.ttl {
			return x.v, nil
		}
	}
	v, err := read()
	if err != nil || c.ttl <= 0 {
		return v, err
	}
	c.mu.Lock()
	m[key] = cached[T]{v: v, at: now}
	c.mu.Unlock()
	return v, nil
}

func (e *Engine) orgUser(ctx context.Context, id string) (User, error) {
	return lookup(e.org, e.org.users, id, e.now(), func() (User, error) { return e.store.User(ctx, id) })
}

func (e *Engine) orgRole(ctx context.Context, role string) ([]User, error) {
	return lookup(e.org, e.org.roles, role, e.now(), func() ([]User, error) { return e.store.UsersWithRole(ctx, role) })
}

func (e *Engine) orgDepartment(ctx context.Context, id string) (Department, error) {
	return lookup(e.org, e.org.depts, id, e.now(), func() (Department, error) { return e.store.Department(ctx, id) })
}

// User returns a user of the org directory through the engine's directory
// cache (see WithOrgTTL): the chat side resolves a card's reader and the
// people it names on every delivery, and a database round trip each would
// cost more than the card.
func (e *Engine) User(ctx context.Context, id string) (User, error) {
	u, err := e.orgUser(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("flows: user %s: %w", id, err)
	}
	return u, nil
}

// UserByPlatformID maps a chat platform's user id to the user, through the
// same cache.
func (e *Engine) UserByPlatformID(ctx context.Context, platform, platformUserID string) (User, error) {
	u, err := lookup(e.org, e.org.byPlatform, platform+"\x00"+platformUserID, e.now(), func() (User, error) {
		return e.store.UserByPlatformID(ctx, platform, platformUserID)
	})
	if err != nil {
		return User{}, fmt.Errorf("flows: %s user %s: %w", platform, platformUserID, err)
	}
	return u, nil
}
