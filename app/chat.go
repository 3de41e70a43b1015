package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"cardflow/adapters/kpi"
	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/bot"
	"cardflow/bot/dingtalk"
	"cardflow/bot/feishu"
	"cardflow/bot/sim"
	"cardflow/bot/wecom"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/queue"
	redisq "cardflow/storage/redis"
)

// chat is the chat side of a server: the renderer, the command router and
// the inbound actions every platform shares, the platforms, and the
// delivery pipeline that consumes the notify topic.
type chat struct {
	pipeline  *bot.Pipeline // nil when no platform is configured
	platforms map[string]bot.Platform
	routes    []func(chi.Router)
	// runners are platforms' long-running loops (a stream connection):
	// started with the server's background work, stopped with it.
	runners []func(ctx context.Context) error
	closers []func() error
	// sends counts the pipeline's sends, for /metrics and the console.
	sends *bot.Sends
}

// chatStore is what the chat side needs of the store: the flow store (the
// org directory among it) and bot's own. Both stores implement it.
type chatStore interface {
	flows.Store
	bot.Store
}

// platformEntry wires one chat platform: whether the configuration turns
// it on, and how to build it. Adding a platform is one package and one
// line here.
type platformEntry struct {
	name    string
	enabled func(cfg *config.Config) bool
	build   func(c *chatDeps) (bot.Platform, error)
	// limits are the platform's rate limits by limiter platform key (its
	// name, and e.g. "feishu-robot" for its group robots); nil for none.
	limits map[string]bot.Limits
}

var platformTable = []platformEntry{
	{name: sim.Name, enabled: func(cfg *config.Config) bool { return cfg.Sim.Enabled }, build: buildSim},
	{name: wecom.Name, enabled: func(cfg *config.Config) bool { return cfg.WeCom.Enabled }, build: buildWeCom, limits: wecom.Limits},
	{name: dingtalk.Name, enabled: func(cfg *config.Config) bool { return cfg.DingTalk.Enabled }, build: buildDingTalk, limits: dingtalk.Limits},
	{name: feishu.Name, enabled: func(cfg *config.Config) bool { return cfg.Feishu.Enabled }, build: buildFeishu, limits: feishu.Limits},
}

// chatDeps are what platforms are built from.
type chatDeps struct {
	cfg     *config.Config
	opts    RunOptions
	store   chatStore
	engine  *flows.Engine
	inbound bot.Inbound
	// limiter is shared by the pipeline and the platforms' own calls (group
	// robots); nil when no enabled platform has limits.
	limiter bot.Limiter
	log     *slog.Logger
	chat    *chat
}

// newChat builds the chat side. With no platform configured it returns a
// chat without pipeline, and notifications are logged instead.
func newChat(cfg *config.Config, opts RunOptions, store flows.Store, engine *flows.Engine, shop *orderSide,
	kpis *kpiSide, reg prometheus.Registerer, log *slog.Logger) (*chat, error) {
	c := &chat{sends: bot.NewSends(reg)}
	cs, ok := store.(chatStore)
	if !ok {
		return nil, errors.New("chat: the store does not keep bot's records")
	}
	// The engine is the directory: its cache saves a round trip per name.
	// Cards link to the instance in the console where people reach it.
	render := bot.NewCardRenderer(engine, engine, bot.RendererOptions{ConsoleURL: cfg.Server.PublicURL})
	router := bot.NewRouter()
	bot.RegisterCommands(router, engine, render)
	var returnFlow *flows.Flow
	if id := cfg.Orders.ReturnFlow; id != "" {
		f, err := engine.Flow(context.Background(), id, 0)
		if err != nil {
			return nil, fmt.Errorf("orders.return_flow: %s: %w", id, err)
		}
		returnFlow = f
	}
	orders.RegisterCommands(router, shop.store, orders.CommandOptions{ReturnFlow: returnFlow, Instances: cs})
	stock.RegisterCommands(router, shop.stockStore)
	kpi.RegisterCommands(router, kpis.board, kpis.file, engine)
	locks := bot.NewCardLocks()
	inbound := bot.NewActions(bot.ActionsDeps{Engine: engine, Store: cs, Locks: locks, Directory: engine, Render: render, Router: router,
		Started: orders.CardStarts(shop.store, nil), Logger: log.With("component", "bot")})
	limits := map[string]bot.Limits{}
	for _, e := range platformTable {
		if e.enabled(cfg) {
			maps.Copy(limits, e.limits)
		}
	}
	limiter, err := newLimiter(cfg, limits)
	if err != nil {
		return nil, err
	}
	d := &chatDeps{cfg: cfg, opts: opts, store: cs, engine: engine, inbound: inbound, limiter: limiter, log: log, chat: c}
	platforms := map[string]bot.Platform{}
	for _, e := range platformTable {
		if !e.enabled(cfg) {
			continue
		}
		p, err := e.build(d)
		if err != nil {
			return nil, fmt.Errorf("chat: %s: %w", e.name, err)
		}
		platforms[e.name] = p
	}
	if len(platforms) == 0 {
		return c, nil
	}
	c.platforms = platforms
	c.pipeline, err = bot.NewPipeline(bot.PipelineDeps{Platforms: platforms, Store: cs, Directory: engine, Render: render,
		Limiter: limiter, Locks: locks, Sends: c.sends, Logger: log.With("component", "pipeline")})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// newLimiter returns the limiter of the enabled platforms' limits: shared
// through Redis when the queue is on Redis (several instances), in process
// otherwise; nil when there are none (the simulator).
func newLimiter(cfg *config.Config, limits map[string]bot.Limits) (bot.Limiter, error) {
	if len(limits) == 0 {
		return nil, nil
	}
	if cfg.Queue.RedisURL.IsZero() {
		return bot.NewMemoryLimiter(limits, nil), nil
	}
	client, err := redisq.NewClient(cfg.Queue.RedisURL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("chat: rate limiter: %w", err)
	}
	return redisq.NewLimiter(client, cfg.Queue.KeyPrefix+"rl:", limits), nil
}

// handler is the notify topic's consumer: the pipeline, or the log when no
// platform is configured.
func (c *chat) handler(log *slog.Logger) queue.Handler {
	if c.pipeline == nil {
		return logNotifications(log)
	}
	return logDelivery(c.pipeline.Handle, log.With("component", "pipeline"))
}

// logDelivery logs how each delivery ended, since the queue retries or
// dead-letters a failed one without a word: a permanent failure as an
// error (the message is dead-lettered), another failure as a warning (it
// is retried), a rate limit and a success at debug level (they are the
// normal course of a busy platform).
func logDelivery(h queue.Handler, log *slog.Logger) queue.Handler {
	return func(ctx context.Context, m queue.Message) error {
		err := h(ctx, m)
		attrs := []any{"id", m.ID, "instance", m.Key, "attempt", m.Attempt}
		after, limited := queue.RetryAfter(err)
		switch {
		case err == nil:
			log.Debug("notification handled", attrs...)
		case queue.IsPermanent(err):
			log.Error("notification failed for good; dead-lettered", append(attrs, "err", err)...)
		case limited:
			log.Debug("notification put off by a rate limit", append(attrs, "retry_after", after, "err", err)...)
		default:
			log.Warn("notification failed; retried until its attempts run out", append(attrs, "err", err)...)
		}
		return err
	}
}

func (c *chat) mount(r chi.Router) {
	for _, m := range c.routes {
		m(r)
	}
}

func (c *chat) close() {
	for _, f := range c.closers {
		_ = f()
	}
}

// simStore is what the simulator reads, its people through the engine's
// directory cache as every platform's are: each click and message names
// its sender, and a database round trip for it cost 7 % of the CPU of
// BenchmarkChatClick.
type simStore struct {
	sim.Store
	engine *flows.Engine
}

func (s simStore) User(ctx context.Context, id string) (flows.User, error) {
	return s.engine.User(ctx, id)
}

func (s simStore) UserByPlatformID(ctx context.Context, platform, platformUserID string) (flows.User, error) {
	return s.engine.UserByPlatformID(ctx, platform, platformUserID)
}

func buildSim(d *chatDeps) (bot.Platform, error) {
	p, err := sim.New(sim.Config{}, sim.Deps{Inbound: d.inbound, Engine: d.engine,
		Store: simStore{Store: d.store, engine: d.engine}, Users: d.store.Users, Log: d.log.With("component", "sim")})
	if err != nil {
		return nil, err
	}
	h := p.Handler()
	if !d.opts.OpenSimulator {
		h = requireAdminToken(d.cfg.Server.AdminTokens, h)
	}
	d.chat.routes = append(d.chat.routes, func(r chi.Router) {
		r.Handle(sim.DefaultPath, h)
		r.Handle(sim.DefaultPath+"/*", h)
	})
	d.chat.closers = append(d.chat.closers, p.Close)
	return p, nil
}

// requireAdminToken lets through requests that give an admin token as the
// password of HTTP Basic authentication, which a browser remembers and
// sends with the page's fetch and event-stream requests too.
func requireAdminToken(tokens []config.Secret, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, ok := r.BasicAuth()
		valid := 0
		for _, t := range tokens {
			valid |= subtle.ConstantTimeCompare([]byte(pass), []byte(t.Reveal()))
		}
		if !ok || pass == "" || valid != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="cardflow simulator", charset="UTF-8"`)
			http.Error(w, "需要管理员令牌 (admin token required)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
