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
	// ReturnFlow is the flow an order card (/order) offers to start for the
	// order (退换货), filling its order_no and refund_amount; empty offers
	// none. It must be one of the loaded flows.
	ReturnFlow string `yaml:"return_flow"`
	// PollInterval is how often pollers ask their platform for changed
	// orders.
	PollInterval time.Duration `yaml:"poll_interval"`
	// JD polls JD shops' orders (京东 has no order push for most apps).
	JD JDPollConfig `yaml:"jd"`
}

// JDPollConfig is the JD order poller: jingdong.pop.order.enSearch through
// the JOS router, for the shops of one app.
type JDPollConfig struct {
	// Shops are the venderIds polled, comma separated; empty turns the
	// poller off.
	Shops string `yaml:"shops"`
	// Source is the name the polled orders are recorded under.
	Source string `yaml:"source"`
	// AppKey is the JOS app's key; AppSecret and AccessToken (the shop's
	// authorisation) are environment only.
	AppKey      string `yaml:"app_key"`
	AppSecret   Secret `yaml:"app_secret"`
	AccessToken Secret `yaml:"access_token"`
	// BaseURL is the JOS router (in 京东云鼎 for order APIs).
	BaseURL string `yaml:"base_url"`
}

var orderSource = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}=(generic|taobao|jd|pdd|douyin):.{16,}`)

func (o OrdersConfig) validate(p *problems) {
	if o.RouteInterval <= 0 {
		p.add("orders.route_interval", "must be positive, got %s", o.RouteInterval)
	}
	if o.PollInterval < 10*time.Second {
		p.add("orders.poll_interval", "must be at least 10s (the platforms throttle), got %s", o.PollInterval)
	}
	if jd := o.JD; strings.TrimSpace(jd.Shops) != "" {
		from := func(key, format string, args ...any) { p.addFrom(key, "orders.jd.shops", format, args...) }
		if jd.AppKey == "" {
			from("orders.jd.app_key", "required when orders.jd.shops is set")
		}
		if jd.AppSecret.IsZero() {
			from("orders.jd.app_secret", "required: set it in the environment variable %s", EnvVar("orders.jd.app_secret"))
		}
		if jd.AccessToken.IsZero() {
			from("orders.jd.access_token", "required: set it in the environment variable %s", EnvVar("orders.jd.access_token"))
		}
		if !robotName.MatchString(jd.Source) {
			p.add("orders.jd.source", "expected a name of lower-case letters, digits, - and _, got %q", jd.Source)
		}
		checkBase(p, "orders.jd.base_url", jd.BaseURL, "https://api.jd.com/routerjson")
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

// StockConfig is the stock ledger: the systems that post stock movements to
// /webhooks/stock/{source}, and where order events reserve and ship.
type StockConfig struct {
	// Sources are the WMS or ERP systems that post stock movements, each
	// "name=generic:secret" (signed like orders); environment only.
	Sources []Secret `yaml:"sources"`
	// Warehouse is where order events reserve and ship stock, since a shop
	// order does not say which warehouse serves it.
	Warehouse string `yaml:"warehouse"`
	// AlertPlatform is the oversell alert's platform when the movement came
	// from no shop order (a warehouse count): one of the alert flow's.
	AlertPlatform string `yaml:"alert_platform"`
	// LowStock are low-stock thresholds, "SKU=N" comma separated: a
	// stock.low alert fires when a SKU's sellable stock in a warehouse falls
	// to N or below.
	LowStock string `yaml:"low_stock"`
	// PushTargets are the shop platforms' bridges or WMSs told each SKU's
	// new sellable stock, each "name=URL#secret" (the secret signs the
	// push like an inbound webhook); environment only.
	PushTargets []Secret `yaml:"push_targets"`
	// PushAlertAfter is how many consecutive failed pushes to a target
	// start its alert (stock.push_failing).
	PushAlertAfter int `yaml:"push_alert_after"`
	// PushInterval is how often due pushes are looked for.
	PushInterval time.Duration `yaml:"push_interval"`
}

var lowStockItem = regexp.MustCompile(`^\s*[^=,\s][^=,]{0,127}=\d{1,9}\s*$`)

func (s StockConfig) validate(p *problems) {
	if strings.TrimSpace(s.Warehouse) == "" {
		p.add("stock.warehouse", "required: where order events reserve and ship")
	}
	for i, e := range s.Sources {
		if !orderSource.MatchString(e.Reveal()) || !strings.Contains(e.Reveal(), "=generic:") {
			p.addFrom(fmt.Sprintf("stock.sources[%d]", i), "stock.sources",
				"expected name=generic:secret with a secret of at least 16 characters")
		}
	}
	if strings.TrimSpace(s.LowStock) != "" {
		for _, item := range strings.Split(s.LowStock, ",") {
			if !lowStockItem.MatchString(item) {
				p.add("stock.low_stock", "expected SKU=N, comma separated, got %q", strings.TrimSpace(item))
			}
		}
	}
	s.validatePush(p)
}

// LowStockThresholds reads stock.low_stock (checked by Validate).
func (s StockConfig) LowStockThresholds() map[string]int64 {
	out := map[string]int64{}
	for _, item := range strings.Split(s.LowStock, ",") {
		sku, n, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		var v int64
		if _, err := fmt.Sscan(n, &v); err == nil {
			out[strings.TrimSpace(sku)] = v
		}
	}
	return out
}
