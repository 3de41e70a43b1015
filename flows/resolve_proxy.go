package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Proxy is a leave rule (代理): while User is away, from From until Until,
// By may act on User's tasks (of the listed Flows only, when Flows is not
// empty). The task stays User's; the audit trail records By as the actor
// "on behalf of" User, and By is told about User's new tasks and sees them
// in their to-do list.
type Proxy struct {
	// ID names the rule; the org file's rules get "org-<n>".
	ID    string
	User  string
	By    string
	From  time.Time
	Until time.Time
	Flows []string
	// Source says who set the rule: ProxySourceOrg (the org file, replaced
	// at every load) or ProxySourceAPI (an administrator, kept).
	Source string
}

// Sources of leave proxy rules.
const (
	ProxySourceOrg = "org"
	ProxySourceAPI = "api"
)

// Proxies are the leave rules the engine applies: the org file's and an
// administrator's, read from the store (see Store.Proxies), and any given
// with WithProxies.
type Proxies []Proxy

// Validate returns every malformed rule: a missing user, a proxy for
// oneself, an empty or reversed window.
func (p Proxies) Validate() error {
	var errs []error
	for i, x := range p {
		if err := x.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("proxy #%d: %w", i+1, err))
		}
	}
	return errors.Join(errs...)
}

// Validate returns what is wrong with one rule: a missing user, a proxy
// for oneself, an empty or reversed window, text that cannot be stored.
func (x Proxy) Validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{{"id", x.ID}, {"user", x.User}, {"by", x.By}} {
		if err := CheckText(f.name, f.v, MaxIDLength); err != nil {
			errs = append(errs, err)
		}
	}
	for i, flow := range x.Flows {
		if err := CheckText(fmt.Sprintf("flows[%d]", i), flow, MaxIDLength); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case x.User == "" || x.By == "":
		errs = append(errs, errors.New("user and by are required"))
	case x.User == x.By:
		errs = append(errs, fmt.Errorf("%s cannot be their own proxy", x.User))
	}
	switch {
	case x.From.IsZero() || x.Until.IsZero():
		errs = append(errs, errors.New("from and until are required"))
	case !x.Until.After(x.From):
		errs = append(errs, errors.New("until must be after from"))
	}
	return errors.Join(errs...)
}

// active reports whether the rule applies at t to a task of flow; the
// window is [From, Until).
func (x Proxy) active(t time.Time, flow string) bool {
	return !t.Before(x.From) && t.Before(x.Until) && (len(x.Flows) == 0 || flow == "" || slices.Contains(x.Flows, flow))
}

// ActsFor reports whether by may act on user's tasks of flow at t.
func (p Proxies) ActsFor(by, user, flow string, t time.Time) bool {
	for _, x := range p {
		if x.By == by && x.User == user && x.active(t, flow) {
			return true
		}
	}
	return false
}

// For returns the users whose tasks by may act on at t (of any flow the
// rule covers).
func (p Proxies) For(by string, t time.Time) []Proxy {
	var out []Proxy
	for _, x := range p {
		if x.By == by && x.active(t, "") {
			out = append(out, x)
		}
	}
	return out
}

// Of returns who may act on user's tasks of flow at t.
func (p Proxies) Of(user, flow string, t time.Time) []string {
	var out []string
	for _, x := range p {
		if x.User == user && x.active(t, flow) && !slices.Contains(out, x.By) {
			out = append(out, x.By)
		}
	}
	return out
}

// authorize checks that the run's actor may act on a task assigned to
// assignee now: as the assignee, or as their proxy, in which case the run
// records whom the actor acts for.
func (r *run) authorize(assignee string) error {
	switch {
	case r.actor == assignee:
		return nil
	case r.proxies().ActsFor(r.actor, assignee, r.f.ID, r.now):
		r.onBehalfOf = assignee
		return nil
	}
	return fmt.Errorf("%s on a task of %s: %w", r.actor, assignee, ErrNotAssignee)
}

// proxyCache keeps the stored proxy rules for the org cache's TTL, so
// resolving a task's holder does not read the table every time; a rule set
// on another server instance applies here within the TTL.
type proxyCache struct {
	mu    sync.Mutex
	rules Proxies
	at    time.Time
	ok    bool
}

// proxies returns the rules in force: the stored ones and WithProxies'.
// A store error is not fatal here: the rules read last still apply, and
// with none read yet only the static ones do (a proxy is a convenience;
// the assignee can always act).
func (e *Engine) proxiesNow(ctx context.Context) Proxies {
	now := e.now()
	c := e.proxyRules
	c.mu.Lock()
	fresh := c.ok && !now.Before(c.at) && now.Sub(c.at) < e.org.ttl
	rules := c.rules
	c.mu.Unlock()
	if !fresh {
		if stored, err := e.store.Proxies(ctx); err == nil {
			rules = append(slices.Clone(e.proxies), stored...)
			c.mu.Lock()
			c.rules, c.at, c.ok = rules, now, true
			c.mu.Unlock()
		} else if !c.ok {
			rules = e.proxies
		}
	}
	return rules
}

// forgetProxies drops the cached rules after this engine changed them.
func (e *Engine) forgetProxies() {
	e.proxyRules.mu.Lock()
	e.proxyRules.ok = false
	e.proxyRules.mu.Unlock()
}

func (r *run) proxies() Proxies {
	if r.proxyRules == nil {
		p := r.e.proxiesNow(r.ctx)
		r.proxyRules = &p
	}
	return *r.proxyRules
}
