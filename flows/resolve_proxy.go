package flows

import (
	"errors"
	"fmt"
	"time"
)

// Proxy is a leave rule (代理): while User is away, from From until Until,
// By may act on User's tasks. The task stays User's; the audit trail
// records By as the actor "on behalf of" User, and By is told about User's
// new tasks and sees them in their to-do list.
type Proxy struct {
	User  string
	By    string
	From  time.Time
	Until time.Time
}

// Proxies are the leave rules the engine applies (see WithProxies). They
// are plain configuration: a deployment lists them in its config file, so
// they are reviewed like any other change and need no table of their own.
type Proxies []Proxy

// Validate returns every malformed rule: a missing user, a proxy for
// oneself, an empty or reversed window.
func (p Proxies) Validate() error {
	var errs []error
	for i, x := range p {
		switch {
		case x.User == "" || x.By == "":
			errs = append(errs, fmt.Errorf("proxy #%d: user and by are required", i+1))
		case x.User == x.By:
			errs = append(errs, fmt.Errorf("proxy #%d: %s cannot be their own proxy", i+1, x.User))
		case !x.Until.After(x.From):
			errs = append(errs, fmt.Errorf("proxy #%d: until must be after from", i+1))
		}
	}
	return errors.Join(errs...)
}

// active reports whether the rule applies at t; the window is [From, Until).
func (x Proxy) active(t time.Time) bool { return !t.Before(x.From) && t.Before(x.Until) }

// ActsFor reports whether by may act on user's tasks at t.
func (p Proxies) ActsFor(by, user string, t time.Time) bool {
	for _, x := range p {
		if x.By == by && x.User == user && x.active(t) {
			return true
		}
	}
	return false
}

// For returns the users whose tasks by may act on at t.
func (p Proxies) For(by string, t time.Time) []string {
	var out []string
	for _, x := range p {
		if x.By == by && x.active(t) {
			out = append(out, x.User)
		}
	}
	return out
}

// Of returns who may act on user's tasks at t.
func (p Proxies) Of(user string, t time.Time) []string {
	var out []string
	for _, x := range p {
		if x.User == user && x.active(t) {
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
	case r.e.proxies.ActsFor(r.actor, assignee, r.now):
		r.onBehalfOf = assignee
		return nil
	}
	return fmt.Errorf("%s on a task of %s: %w", r.actor, assignee, ErrNotAssignee)
}
