package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// OrdersConfig is the orders adapter: the systems that post orders to
// /webhooks/orders/{source}, and the rules that start flows from them.
type OrdersConfig struct {
	// Sources are the systems that post orders, each
	// "name=format:secret" (format generic, taobao, jd, pdd or douyin; for
	// Douyin Shop's own push "name=douyin:app_key:app_secret"); environment
	// only. A source posts to /webhooks/orders/<name>.
	Sources []Secret `yaml:"sources"`
	// RulesFile says which order events start which flows; empty: orders
	// are stored and looked up, and start nothing.
	RulesFile string `yaml:"rules_file"`
	// RouteInterval is how often stored events are looked for that no
	// instance has routed yet (another instance stored them, or a crash
	// came between storing and routing); a webhook wakes the router at once.
	RouteInterval time.Duration `yaml:"route_interval"`
}

var orderSource = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}=(generic|taobao|jd|pdd|douyin):.{16,}`)

func (o OrdersConfig) validate(p *problems) {
	if o.RouteInterval <= 0 {
		p.add("orders.route_interval", "must be positive, got %s", o.RouteInterval)
	}
	for i, s := range o.Sources {
		// The value is never shown: it holds the source's secret.
		if !orderSource.MatchString(s.Reveal()) {
			p.addFrom(fmt.Sprintf("orders.sources[%d]", i), "orders.sources",
				"expected name=format:secret with format generic, taobao, jd, pdd or douyin and a secret of at least 16 characters")
		} else if strings.HasPrefix(strings.SplitN(s.Reveal(), "=", 2)[1], "douyin:") && strings.Count(s.Reveal(), ":") < 2 {
			p.addFrom(fmt.Sprintf("orders.sources[%d]", i), "orders.sources", "a douyin source is name=douyin:app_key:app_secret")
		}
	}
}
