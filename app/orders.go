package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/config"
	"cardflow/flows"
)

// orderSide is the orders adapter of a server: the webhook sources post to,
// and the router that starts flows from what they posted.
type orderSide struct {
	store   orders.Store
	webhook *orders.Webhook
	// stockHook takes stock movements; stockStore answers /stock.
	stockHook  *stock.Webhook
	stockStore stock.Store
	router     *orders.Router
	// route says the rules start anything, so the router runs.
	route bool
	// polls are the pollers of platforms that are asked for orders.
	polls []*orders.PollLoop
	// pusher tells stock.push_targets the new sellable stock; nil for none.
	pusher *stock.Pusher
}

// newOrders builds the orders adapter on store. The rules are read (from
// the examples embedded in the binary when the demo's file is missing) and
// checked against the flows loaded, so a rule naming a missing flow or form
// field stops start-up with its file and line.
func newOrders(cfg *config.Config, examples fs.FS, store flows.Store, loaded []*flows.Flow, engine *flows.Engine,
	log *slog.Logger) (*orderSide, error) {
	orderStore, ok := store.(orders.Store)
	if !ok {
		return nil, errors.New("orders: the store does not keep orders")
	}
	sources, err := orders.ParseSources(cfg.Orders.Sources)
	if err != nil {
		return nil, fmt.Errorf("orders.sources: %w", err)
	}
	rules, err := readRules(cfg.Orders.RulesFile, examples)
	if err != nil {
		return nil, err
	}
	byID := map[string]*flows.Flow{}
	for _, f := range loaded {
		byID[f.ID] = f
	}
	if err := rules.Check(func(id string) (*flows.Flow, bool) { f, ok := byID[id]; return f, ok }); err != nil {
		return nil, err
	}
	log = log.With("component", "orders")
	router := orders.NewRouter(orderStore, rules, engine, log, nil)
	side := &orderSide{store: orderStore, router: router, route: true,
		webhook: orders.NewWebhook(sources, orderStore, log, nil, router.Wake)}
	if err := side.withStock(cfg, store, engine, log); err != nil {
		return nil, err
	}
	if jd := cfg.Orders.JD; strings.TrimSpace(jd.Shops) != "" {
		var shops []string
		for _, s := range strings.Split(jd.Shops, ",") {
			if s = strings.TrimSpace(s); s != "" {
				shops = append(shops, s)
			}
		}
		p := &orders.JDPoller{BaseURL: jd.BaseURL, AppKey: jd.AppKey, AppSecret: jd.AppSecret, AccessToken: jd.AccessToken}
		side.polls = append(side.polls, orders.NewPollLoop(jd.Source, shops, p, orderStore, log, nil, router.Wake))
	}
	return side, nil
}

// readRules reads the rules file; none configured is no rules.
func readRules(path string, examples fs.FS) (*orders.Rules, error) {
	if path == "" {
		return &orders.Rules{}, nil
	}
	data, err := os.ReadFile(path)
	if examples != nil && errors.Is(err, fs.ErrNotExist) {
		data, err = fs.ReadFile(examples, "order_rules.example.yaml")
	}
	if err != nil {
		return nil, fmt.Errorf("orders: rules: %w", err)
	}
	return orders.ParseRules(path, data)
}

// withStock adds the stock ledger: its webhook, its reservations from the
// order events the router hands it (so the router runs even without
// rules), and the pusher of stock.push_targets when any is set.
func (o *orderSide) withStock(cfg *config.Config, store flows.Store, engine *flows.Engine, log *slog.Logger) error {
	st, ok := store.(stock.Store)
	if !ok {
		return errors.New("stock: the store does not keep stock")
	}
	sources, err := stock.ParseSources(cfg.Stock.Sources)
	if err != nil {
		return fmt.Errorf("stock.sources: %w", err)
	}
	log = log.With("component", "stock")
	ledger, err := stock.NewLedger(st, engine, stock.Config{Warehouse: cfg.Stock.Warehouse,
		Platform: cfg.Stock.AlertPlatform, LowStock: cfg.Stock.LowStockThresholds()}, log, nil)
	if err != nil {
		return fmt.Errorf("stock: %w", err)
	}
	o.router.Listen(ledger.ApplyOrderEvent)
	o.stockHook, o.stockStore = stock.NewWebhook(sources, ledger, log, nil), st
	targets, err := stock.ParsePushTargets(cfg.Stock.PushTargets)
	if err != nil {
		return fmt.Errorf("stock.push_targets: %w", err)
	}
	if len(targets) == 0 {
		return nil
	}
	ps, ok := store.(stock.PushStore)
	if !ok {
		return errors.New("stock: the store keeps no push outbox")
	}
	o.pusher = stock.NewPusher(ps, targets, stock.PushOptions{AlertAfter: cfg.Stock.PushAlertAfter,
		Interval: cfg.Stock.PushInterval, Alerts: engine}, log, nil)
	return nil
}
