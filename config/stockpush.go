package config

import (
	"fmt"
	"net/url"
	"strings"
)

// MinPushSecret is the shortest signing secret of a stock push target, in
// bytes.
const MinPushSecret = 16

// PushTarget is one stock.push_targets entry: a shop platform's bridge or
// a WMS told the sellable stock of each SKU that changed.
type PushTarget struct {
	Name string
	// URL is where pushes are posted; it may hold a token, so it is a
	// Secret too.
	URL Secret
	// SignSecret signs each push like cardflow's inbound webhooks.
	SignSecret Secret
}

// ParsePushTargets reads stock.push_targets entries, "name=URL#secret", as
// ParseRobots reads robots: a name of lower-case letters, digits, - and _,
// an http(s) URL and a signing secret of at least 16 bytes. Its errors
// never quote an entry, which holds the secret.
func ParsePushTargets(entries []Secret) ([]PushTarget, error) {
	var out []PushTarget
	seen := map[string]bool{}
	for i, e := range entries {
		name, rest, ok := strings.Cut(e.Reveal(), "=")
		name = strings.TrimSpace(name)
		if !ok || !robotName.MatchString(name) {
			return nil, fmt.Errorf("item %d: expected name=<URL>#<secret>, the name in lower-case letters, digits, - and _", i)
		}
		if seen[name] {
			return nil, fmt.Errorf("item %d: target %q is named twice", i, name)
		}
		seen[name] = true
		raw, sign, _ := strings.Cut(strings.TrimSpace(rest), "#")
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("item %d (target %s): the URL is not an http(s) URL", i, name)
		}
		if len(sign) < MinPushSecret {
			return nil, fmt.Errorf("item %d (target %s): add a signing secret of at least %d bytes after the URL as #<secret>", i, name, MinPushSecret)
		}
		out = append(out, PushTarget{Name: name, URL: Secret(raw), SignSecret: Secret(sign)})
	}
	return out, nil
}

func (s StockConfig) validatePush(p *problems) {
	if _, err := ParsePushTargets(s.PushTargets); err != nil {
		p.add("stock.push_targets", "%v", err)
	}
	if s.PushAlertAfter < 1 {
		p.add("stock.push_alert_after", "must be at least 1, got %d", s.PushAlertAfter)
	}
	if s.PushInterval <= 0 {
		p.add("stock.push_interval", "must be positive, got %s", s.PushInterval)
	}
}
