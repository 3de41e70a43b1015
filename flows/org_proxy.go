package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// OrgZone is the time zone of org file times written without one
// ("2026-12-01 09:00", "2026-12-01"): China Standard Time.
var OrgZone = time.FixedZone("CST", 8*60*60)

// orgTimeLayouts are the ways an org file may write a proxy window's ends.
var orgTimeLayouts = []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02"}

// parseOrgTime reads a time of the org file; a date alone is its midnight.
func parseOrgTime(s string) (time.Time, error) {
	for i, layout := range orgTimeLayouts {
		loc := OrgZone
		if i == 0 {
			loc = time.UTC
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write 2026-12-01, 2026-12-01 09:00 (China time) or RFC 3339", s)
}

// proxies reads the org file's leave proxy rules (代理):
//
//	proxies:
//	  - {user: u_zhou, by: u_wang, from: 2026-12-01, until: 2026-12-08, flows: [order_fulfilment]}
//
// from is inclusive and until exclusive; flows, when given, limits the
// rule to those flows. Users are checked with the other references.
func (r *orgReader) proxies(m *mapping) []Proxy {
	if !m.has("proxies") {
		return nil
	}
	var out []Proxy
	for i, n := range m.seq("org", "proxies") {
		pm, ok := r.p.mapping(n, "proxy")
		if !ok {
			continue
		}
		subject := "proxy #" + strconv.Itoa(i+1)
		pm.only(subject, "user", "by", "from", "until", "flows")
		p := Proxy{ID: "org-" + strconv.Itoa(i+1), Source: ProxySourceOrg,
			User: pm.required(subject, "user"), By: pm.required(subject, "by"), Flows: pm.list(subject, "flows")}
		r.ref(pm, subject, "user", p.User, "user")
		r.ref(pm, subject, "by", p.By, "user")
		for _, end := range []struct {
			key string
			dst *time.Time
		}{{"from", &p.From}, {"until", &p.Until}} {
			s := pm.required(subject, end.key)
			if s == "" {
				continue
			}
			t, err := parseOrgTime(s)
			if err != nil {
				r.p.atLine(pm.line(end.key), "%s: %s: %v", subject, end.key, err)
				continue
			}
			*end.dst = t
		}
		if p.User != "" && p.User == p.By {
			r.p.atLine(pm.line("by"), "%s: %s cannot be their own proxy", subject, p.User)
		}
		if !p.From.IsZero() && !p.Until.IsZero() && !p.Until.After(p.From) {
			r.p.atLine(pm.line("until"), "%s: until must be after from", subject)
		}
		out = append(out, p)
	}
	return out
}

// CheckProxyFlows checks that every flow an org's proxy rule names is one of
// flows, so a misspelt flow id does not quietly make a rule apply nowhere.
func (o Org) CheckProxyFlows(all []*Flow) error {
	var errs []error
	for _, p := range o.Proxies {
		for _, id := range p.Flows {
			if !slices.ContainsFunc(all, func(f *Flow) bool { return f.ID == id }) {
				errs = append(errs, fmt.Errorf("org: proxy %s (%s for %s): flows: unknown flow %q", p.ID, p.By, p.User, id))
			}
		}
	}
	return errors.Join(errs...)
}

// ListProxies returns the leave proxy rules in the store: the org file's and
// those set over the API.
func (e *Engine) ListProxies(ctx context.Context) ([]Proxy, error) {
	ps, err := e.store.Proxies(ctx)
	if err != nil {
		return nil, fmt.Errorf("flows: proxies: %w", err)
	}
	return ps, nil
}

// SetProxy stores a leave proxy rule set by an administrator (Source
// ProxySourceAPI; a new ID when it has none). Both users must be in the org
// directory and every listed flow must exist; a rule of the org file
// cannot be changed this way, since the next load would undo it.
func (e *Engine) SetProxy(ctx context.Context, p Proxy) (Proxy, error) {
	if p.ID == "" {
		p.ID = "api-" + randomHex(6)
	}
	p.Source = ProxySourceAPI
	p.From, p.Until = p.From.UTC(), p.Until.UTC()
	if err := p.Validate(); err != nil {
		return Proxy{}, fmt.Errorf("flows: set proxy: %w: %w", ErrInvalidTarget, err)
	}
	for _, u := range []string{p.User, p.By} {
		if err := e.knownActor(ctx, u); err != nil {
			return Proxy{}, fmt.Errorf("flows: set proxy: %w", err)
		}
	}
	for _, id := range p.Flows {
		if _, err := e.store.LatestDefinition(ctx, id); errors.Is(err, ErrNotFound) {
			return Proxy{}, fmt.Errorf("flows: set proxy: unknown flow %q: %w", id, ErrInvalidTarget)
		} else if err != nil {
			return Proxy{}, fmt.Errorf("flows: set proxy: flow %s: %w", id, err)
		}
	}
	existing, err := e.store.Proxies(ctx)
	if err != nil {
		return Proxy{}, fmt.Errorf("flows: set proxy: %w", err)
	}
	if slices.ContainsFunc(existing, func(x Proxy) bool { return x.ID == p.ID && x.Source != ProxySourceAPI }) {
		return Proxy{}, fmt.Errorf("flows: set proxy %s: it comes from the org file; change it there: %w", p.ID, ErrNotApplicable)
	}
	if err := e.store.PutProxy(ctx, p); err != nil {
		return Proxy{}, fmt.Errorf("flows: set proxy: %w", err)
	}
	e.forgetProxies()
	return p, nil
}

// DeleteProxy removes a rule set over the API; ErrNotFound if there is none.
func (e *Engine) DeleteProxy(ctx context.Context, id string) error {
	existing, err := e.store.Proxies(ctx)
	if err != nil {
		return fmt.Errorf("flows: delete proxy: %w", err)
	}
	i := slices.IndexFunc(existing, func(x Proxy) bool { return x.ID == id })
	switch {
	case i < 0:
		return fmt.Errorf("flows: delete proxy %s: %w", id, ErrNotFound)
	case existing[i].Source != ProxySourceAPI:
		return fmt.Errorf("flows: delete proxy %s: it comes from the org file; change it there: %w", id, ErrNotApplicable)
	}
	if err := e.store.DeleteProxy(ctx, id); err != nil {
		return fmt.Errorf("flows: delete proxy: %w", err)
	}
	e.forgetProxies()
	return nil
}
