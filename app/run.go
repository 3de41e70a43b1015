// Package app wires cardflow together from its configuration: it opens the
// store and the queue, loads the flow definitions and the org directory,
// builds the engine, the API and the HTTP server, starts the outbox relay and
// the queue consumers, and shuts it all down in order.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"cardflow/adapters/kpi/digest"
	"cardflow/bot"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/flows/flowmetrics"
	"cardflow/outbox"
	"cardflow/queue"
	"cardflow/server"
	"cardflow/server/api"
	"cardflow/server/apitoken"
	"cardflow/storage/postgres"
	redisq "cardflow/storage/redis"
	"cardflow/storage/sqlite"
)

// timerTick is how often the timer worker looks for due SLA timers; it
// bounds how late a reminder, escalation or auto-action fires.
const timerTick = time.Second

// RunOptions are what Run takes besides the configuration.
type RunOptions struct {
	// Logger receives every log line; nil discards them.
	Logger *slog.Logger
	// Listener, when set, is served instead of listening on server.addr
	// (tests pass one on a random port).
	Listener net.Listener
	// OnReady is called once the store and queue are open, the flows are
	// loaded and the listener accepts connections.
	OnReady func(Ready)
	// SLAScale, when above 1, makes every SLA duration pass that many times
	// faster (flows.WithSLAScale), so a demo shows its timers working; 0
	// means 1. It must be finite and not below 1.
	SLAScale float64
	// OpenSimulator serves the chat simulator without an admin token: for
	// cardflow demo, on a local address, only.
	OpenSimulator bool
	// Examples, when set, stand in for a flows directory or org file that
	// is missing on disk (see readDefinitions).
	Examples fs.FS
	// DigestClock is the clock digests are scheduled by; nil is time.Now.
	// Tests set it a moment before a digest's time to see it go out then.
	DigestClock func() time.Time
}

// Ready describes a started server.
type Ready struct {
	Addr net.Addr
	// Flows are the stored versions of the flows loaded at start-up, and
	// FlowsFrom where they were read.
	Flows     []flows.Definition
	FlowsFrom string
	// Platforms are the chat platforms cards are delivered to, by name
	// (sim.Name: a *sim.Platform); empty when none is configured. Tests
	// and benchmarks watch and steer deliveries through them.
	Platforms map[string]bot.Platform
	// SendDigest sends a run of the named digest now, to its recipients
	// (the demo's shop day sends the day's).
	SendDigest func(ctx context.Context, name string) error
}

// Run reads and checks the flow definitions (and the org file, when
// configured), opens the configured store and queue, installs the flows,
// starts the outbox relay and the queue consumers, and serves HTTP (health,
// metrics, the /api/v1 routes) until ctx is cancelled. Then it shuts down
// in order: HTTP first (in-flight requests finish), then the relay, then the
// consumers (in-flight queue work finishes, bounded by
// server.shutdown_timeout), and last the queue and the store.
func Run(ctx context.Context, cfg *config.Config, opts RunOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkSLAScale(opts.SLAScale); err != nil {
		return err
	}
	defs, err := readDefinitions(cfg, opts.Examples)
	if err != nil {
		return err
	}
	store, storeName, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	q, queueName, err := OpenQueue(cfg, log)
	if err != nil {
		return err
	}
	defer q.Close()
	if err := checkAOF(ctx, q, cfg.Queue.RequireAOF, log); err != nil {
		return err
	}
	log.Info("cardflow starting", "store", storeName, "queue", queueName, "addr", cfg.Server.Addr,
		"gogc", gcPercent())

	registry := prometheus.NewRegistry()
	holder := holderName()
	relay := outbox.NewRelay(store, q, outbox.Options{
		Holder:       holder,
		PollInterval: cfg.Outbox.PollInterval,
		BatchSize:    cfg.Outbox.BatchSize,
		Logger:       log.With("component", "outbox"),
		Registerer:   registry,
	})
	prune, err := NewPruneLoop(cfg, store, storeName, q, outbox.PruneOptions{
		Holder:     holder,
		Logger:     log.With("component", "prune"),
		Registerer: registry,
	})
	if err != nil {
		return err
	}
	var engineOpts []flows.Option
	if opts.SLAScale > 1 {
		engineOpts = append(engineOpts, flows.WithSLAScale(opts.SLAScale))
		log.Info("SLA timers scaled", "scale", opts.SLAScale)
	}
	engine := flows.NewEngine(wakingStore{Store: store, wake: relay.Wake}, engineOpts...)
	registry.MustRegister(flowmetrics.New(engine, flowmetrics.Options{Window: cfg.Analytics.Window,
		Logger: log.With("component", "analytics")}))
	loaded, err := defs.install(ctx, store, engine)
	if err != nil {
		return err
	}
	orderSide, err := newOrders(cfg, opts.Examples, store, defs.flows, engine, log)
	if err != nil {
		return err
	}
	kpis, err := newKPI(cfg, opts.Examples, store, defs.flows, engine, log)
	if err != nil {
		return err
	}
	chat, err := newChat(cfg, opts, store, engine, orderSide, kpis, registry, log)
	if err != nil {
		return err
	}
	if err := kpis.withPipeline(chat.pipeline, q, store, opts.DigestClock); err != nil {
		return err
	}
	tokens, ok := store.(apitoken.Store)
	if !ok {
		return fmt.Errorf("app: the %s store keeps no API tokens", storeName)
	}
	apiLog := log.With("component", "api")
	web, err := newConsole(cfg, store, engine, q, chat, log)
	if err != nil {
		return err
	}
	srv := server.New(cfg, server.Deps{
		Logger:     log,
		Registry:   registry,
		Checks:     map[string]server.Pinger{"store": store, "queue": q},
		QueueDepth: server.TopicDepths(q, flows.NotifyTopic),
		Outbox:     store,
		Routes: func(r chi.Router) {
			api.New(engine, cfg.Server.APITokens, apiLog).WithAdminTokens(cfg.Server.AdminTokens).
				WithTokenStore(apitoken.NewVerifier(tokens, time.Now, apiLog)).
				WithQueue(q, appTopics...).Routes(r)
			chat.mount(r)
			if web != nil {
				web.Routes(r)
			}
			r.Method(http.MethodPost, "/webhooks/orders/{source}", orderSide.webhook)
			r.Method(http.MethodPost, "/webhooks/stock/{source}", orderSide.stockHook)
			r.Method(http.MethodPost, "/webhooks/kpi/{source}", kpis.webhook)
			// Chart images open in chat apps without a token: the URL's
			// signature is what authorises them.
			r.Handle("/charts/{token}", kpis.signer.Handler(log.With("component", "charts")))
		},
	})

	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Server.Addr); err != nil {
			return fmt.Errorf("server: listen on %s: %w", cfg.Server.Addr, err)
		}
	}

	// Background work gets its own context: it must outlive ctx until HTTP
	// has drained, so a request committed just before shutdown is relayed.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	wg.Go(func() { _ = relay.Run(work) })
	wg.Go(func() { _ = prune.Run(work) }) // one instance at a time: the store's "prune" lease
	wg.Go(func() {
		// Every instance runs the timer worker; the store's lease makes each
		// due timer fire on one of them only.
		if err := engine.RunTimers(work, holder, timerTick); err != nil && work.Err() == nil {
			log.Error("timer worker stopped", "err", err)
		}
	})
	wg.Go(func() {
		err := q.Consume(work, flows.NotifyTopic, chat.handler(log), queue.ConsumeOptions{
			Concurrency: cfg.Queue.DeliveryWorkers, DrainTimeout: cfg.Server.ShutdownTimeout,
		})
		if err != nil {
			log.Error("notify consumer stopped", "err", err)
		}
	})

	if orderSide.route {
		wg.Go(func() { _ = orderSide.router.Run(work, cfg.Orders.RouteInterval) })
	}
	if len(kpis.file.Alerts) > 0 {
		wg.Go(func() { kpis.alerter.Run(work, cfg.KPI.AlertInterval) })
	}
	if s := kpis.scheduler; s != nil {
		wg.Go(func() { _ = s.Run(work) })
		wg.Go(func() {
			// A digest copy waits mostly on the store and the platform: more
			// copies in flight than notifications, the platform rate still kept.
			err := q.Consume(work, digest.Topic, s.Handle, queue.ConsumeOptions{Concurrency: 32,
				DrainTimeout: cfg.Server.ShutdownTimeout})
			if err != nil {
				log.Error("digest consumer stopped", "err", err)
			}
		})
	}
	for _, poll := range orderSide.polls {
		wg.Go(func() { _ = poll.Run(work, cfg.Orders.PollInterval) })
	}
	if orderSide.pusher != nil {
		wg.Go(func() { _ = orderSide.pusher.Run(work) })
	}
	for _, run := range chat.runners {
		wg.Go(func() {
			if err := run(work); err != nil && work.Err() == nil {
				log.Error("chat platform connection stopped", "err", err)
			}
		})
	}

	if opts.OnReady != nil {
		opts.OnReady(Ready{Addr: ln.Addr(), Flows: loaded, FlowsFrom: defs.from, Platforms: chat.platforms,
			SendDigest: kpis.SendDigest})
	}
	// Open event streams (the simulator's) would hold the HTTP shutdown
	// until its timeout: end them as soon as shutdown starts.
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		chat.close()
	}()
	serveErr := srv.Serve(ctx, ln)
	close(stopped)
	stopWork()
	wg.Wait()
	log.Info("cardflow stopped")
	return serveErr
}

// checkSLAScale accepts 0 (unset) and finite scales from 1 up.
func checkSLAScale(scale float64) error {
	if scale == 0 || scale >= 1 && !math.IsInf(scale, 1) {
		return nil
	}
	return fmt.Errorf("app: SLA scale must be a finite number of at least 1, got %v", scale)
}

// holderName names this process in store leases (timers, outbox relay).
func holderName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:8])
}

// wakingStore wakes the outbox relay after every commit that wrote outbox
// messages, so a notification leaves within milliseconds rather than at the
// relay's next poll; the poll still catches what other instances commit.
type wakingStore struct {
	flows.Store
	wake func()
}

// InstanceView passes the store's one-round-trip view read on, when it has
// one, so the engine keeps using it through this wrapper.
func (s wakingStore) InstanceView(ctx context.Context, id string, taskLimit int) (flows.Instance, []flows.Task, []flows.AuditEntry, error) {
	if vr, ok := s.Store.(flows.ViewReader); ok {
		return vr.InstanceView(ctx, id, taskLimit)
	}
	inst, err := s.Store.Instance(ctx, id)
	if err != nil {
		return flows.Instance{}, nil, nil, err
	}
	tasks, err := s.Store.Tasks(ctx, flows.TaskFilter{InstanceID: id, Limit: taskLimit})
	if err != nil {
		return flows.Instance{}, nil, nil, err
	}
	audit, err := s.Store.Audit(ctx, id)
	return inst, tasks, audit, err
}

// InstanceCounts passes flow analytics on to the store.
func (s wakingStore) InstanceCounts(ctx context.Context, p flows.AnalyticsParams) ([]flows.InstanceCount, error) {
	ar, ok := s.Store.(flows.AnalyticsReader)
	if !ok {
		return nil, flows.ErrAnalyticsUnsupported
	}
	return ar.InstanceCounts(ctx, p)
}

// AnalyticsTasks passes flow analytics on to the store.
func (s wakingStore) AnalyticsTasks(ctx context.Context, p flows.AnalyticsParams, each func(flows.AnalyticsTask) error) error {
	ar, ok := s.Store.(flows.AnalyticsReader)
	if !ok {
		return flows.ErrAnalyticsUnsupported
	}
	return ar.AnalyticsTasks(ctx, p, each)
}

func (s wakingStore) Apply(ctx context.Context, c flows.Change) (flows.Applied, error) {
	a, err := s.Store.Apply(ctx, c)
	if err == nil && len(c.Outbox) > 0 {
		s.wake()
	}
	return a, err
}

// OpenStore opens the configured flow store: PostgreSQL when store.dsn is
// set, otherwise the embedded SQLite file. It names the store for logs.
func OpenStore(ctx context.Context, cfg *config.Config) (flows.Store, string, error) {
	if cfg.Store.DSN.IsZero() {
		s, err := sqlite.Open(ctx, cfg.Store.SQLitePath)
		if err != nil {
			return nil, "", err
		}
		return s, "sqlite " + cfg.Store.SQLitePath, nil
	}
	s, err := postgres.Open(ctx, cfg.Store.DSN.Reveal(), postgres.Options{
		MaxConns: int32(cfg.Store.MaxConns),
		Migrate:  cfg.Store.MigrateOnStart,
	})
	if err != nil {
		return nil, "", err
	}
	return s, "postgres " + cfg.Store.DSN.String(), nil
}

// appTopics are the queue topics the app consumes: their dead letters are
// the ones the admin API lists and replays and the prune loop deletes.
var appTopics = []string{flows.NotifyTopic, digest.Topic}

// OpenQueue opens the configured queue: Redis when queue.redis_url is set,
// otherwise the in-process queue.
func OpenQueue(cfg *config.Config, log *slog.Logger) (queue.Queue, string, error) {
	if cfg.Queue.RedisURL.IsZero() {
		return queue.NewMemory(queue.MemoryOptions{MaxDeadLetters: cfg.Queue.MaxDeadLetters}), "in-process", nil
	}
	q, err := redisq.Open(cfg.Queue.RedisURL.Reveal(), redisq.QueueOptions{Prefix: cfg.Queue.KeyPrefix,
		MaxDeadLetters: cfg.Queue.MaxDeadLetters, Logger: log})
	if err != nil {
		return nil, "", err
	}
	return q, "redis " + cfg.Queue.RedisURL.String(), nil
}

// logNotifications is the notify consumer while no chat platform is
// configured: it logs each intent, so the pipeline from commit to delivery
// can be watched end to end. The platform senders replace it.
func logNotifications(log *slog.Logger) queue.Handler {
	return func(ctx context.Context, m queue.Message) error {
		if len(m.Payload) == 0 {
			return queue.Permanent(errors.New("notification without payload"))
		}
		// Debug, not info: at a thousand decisions a second, eight intents
		// each, an info line apiece would be most of the log. The line's
		// values (a copy of the payload) are built only when it is written.
		if log.Enabled(ctx, slog.LevelDebug) {
			log.Debug("notification (no chat platform configured)",
				"id", m.ID, "instance", m.Key, "attempt", m.Attempt, "payload", string(m.Payload))
		}
		return nil
	}
}

// gcPercent is the garbage collector's target in effect (GOGC, or what
// the command set), for the start-up line.
func gcPercent() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
