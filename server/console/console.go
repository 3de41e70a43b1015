// Package console is cardflow's web console for operators at /console/:
// a dashboard (instances by state, overdue tasks, the outbox, the queue,
// sends per platform), the flow definitions with their diagrams and
// versions side by side, the instances with the timeline of each and the
// cards sent about it, the open tasks (reassign, urge), the alerts
// (acknowledge, resolve, snooze), the dead letters (inspect, replay,
// discard), the org directory, the approval analytics (审批效率) and
// what is kept for how long.
//
// Pages are rendered on the server (html/template, assets embedded from
// web/console); every form POSTs and redirects (PRG), so it works without
// JavaScript. Operators log in with a bcrypt-hashed password of
// console.users, or with an admin token; each acts as an org user
// (acts_as), whom the engine authorises like anyone else and the audit
// trail names. Sessions are HMAC-signed cookies (see session); forms carry
// a per-session CSRF token and cross-origin POSTs are refused
// (http.CrossOriginProtection). Text is zh-CN by default, English by a
// switch or the operator's locale.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/queue"
)

// prefix is where the console is mounted.
const prefix = "/console/"

// Store is what the console reads across users, beyond the engine's
// per-viewer reads: both stores are one.
type Store interface {
	Instance(ctx context.Context, id string) (flows.Instance, error)
	Instances(ctx context.Context, f flows.InstanceFilter) ([]flows.Instance, error)
	Task(ctx context.Context, id string) (flows.Task, error)
	Tasks(ctx context.Context, f flows.TaskFilter) ([]flows.Task, error)
	OutboxBacklog(ctx context.Context) (count int64, oldest time.Time, err error)
	// CountInstances counts the instances in each status at once;
	// statuses without instances are absent.
	CountInstances(ctx context.Context) (map[flows.InstanceStatus]int64, error)
	// OverdueTasks counts the open tasks past their due time at now and
	// lists the first limit of them, the longest overdue first.
	OverdueTasks(ctx context.Context, now time.Time, limit int) (int64, []flows.Task, error)
}

// CardReader lists the cards sent about an instance: bot.Store is one.
type CardReader interface {
	InstanceCards(ctx context.Context, instanceID string) ([]bot.CardMessage, error)
}

// Config is who may log in and how sessions are kept.
type Config struct {
	Users []config.ConsoleUser
	// AdminTokens log in too, acting as AdminActsAs ("" refuses them).
	AdminTokens []config.Secret
	AdminActsAs string
	// SessionSecret signs session cookies; at least 32 bytes.
	SessionSecret []byte
	SessionTTL    time.Duration
	// Secure marks cookies Secure even on plain HTTP requests (the
	// console is reached over https through a proxy: server.public_url).
	Secure bool
}

// Deps are what the console reads and acts through. Engine and Store are
// required.
type Deps struct {
	Engine *flows.Engine
	Store  Store
	// Cards may be nil: the instance page then lists no cards.
	Cards CardReader
	// Queue and Topics serve the queue depth and the dead letters; a nil
	// Queue shows neither.
	Queue  queue.Queue
	Topics []string
	// Sends reads the chat sends counted by this process; nil shows none.
	Sends func() []bot.SendCount
	// Retentions say what is kept and for how long, for the retention
	// page; none shows an empty page.
	Retentions []Retention
	// SimURL, when set, links the chat simulator from the navigation.
	SimURL string
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Console serves /console/.
type Console struct {
	cfg     Config
	d       Deps
	log     *slog.Logger
	now     func() time.Time
	ses     *sessions
	limit   *limiter
	pages   *pages
	origins *http.CrossOriginProtection
}

// New returns the console; it fails on a configuration no one could use.
func New(cfg Config, d Deps) (*Console, error) {
	switch {
	case d.Engine == nil || d.Store == nil:
		return nil, errors.New("console: the engine and the store are required")
	case len(cfg.SessionSecret) < config.MinSessionSecret:
		return nil, fmt.Errorf("console: the session secret needs at least %d bytes", config.MinSessionSecret)
	case cfg.SessionTTL <= 0:
		return nil, errors.New("console: the session TTL must be positive")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, d: d, log: d.Logger, now: d.Now, pages: p, limit: newLimiter(d.Now),
		ses:     &sessions{key: cfg.SessionSecret, ttl: cfg.SessionTTL, secure: cfg.Secure, now: d.Now},
		origins: http.NewCrossOriginProtection()}
	c.origins.SetDenyHandler(http.HandlerFunc(c.denied))
	return c, nil
}

// Routes mounts the console under /console/; pass it within
// server.Deps.Routes.
func (c *Console) Routes(r chi.Router) {
	r.Get("/console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, prefix, http.StatusMovedPermanently)
	})
	r.Route("/console", func(r chi.Router) {
		r.Use(c.origins.Handler, secureHeaders)
		// The console's own pages for a wrong address or method, in the
		// reader's language, not the API's JSON.
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			c.plainError(w, r, http.StatusNotFound, "err.noPage")
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			c.plainError(w, r, http.StatusMethodNotAllowed, "err.noPage")
		})
		r.Handle("/static/*", staticFiles())
		r.Get("/login", c.loginPage)
		r.Post("/login", c.login)
		r.Post("/login/token", c.loginToken)
		r.Get("/lang", c.switchLang)
		r.Group(func(r chi.Router) {
			r.Use(c.authenticate)
			r.Post("/logout", c.logout)
			r.Get("/", c.home)
			r.Get("/instances", c.instances)
			r.Get("/instances/{id}", c.instance)
			r.Post("/instances/{id}/urge", c.urgeInstance)
			r.Get("/tasks", c.tasks)
			r.Post("/tasks/{id}/transfer", c.transferTask)
			r.Post("/tasks/{id}/urge", c.urgeTask)
			r.Get("/flows", c.flowList)
			r.Get("/flows/{id}", c.flow)
			r.Get("/alerts", c.alerts)
			r.Post("/alerts/{id}/{op}", c.alertAction)
			r.Group(func(r chi.Router) {
				r.Use(c.adminOnly)
				r.Get("/deadletters", c.deadLetters)
				// A message id may hold slashes (notify ids do): the dead
				// letter is named in the query or the form, not the path.
				r.Get("/deadletters/view", c.deadLetter)
				r.Post("/deadletters/replay", c.replay)
				r.Post("/deadletters/discard", c.discard)
				r.Get("/org", c.org)
				r.Get("/analytics", c.analytics)
				r.Get("/retention", c.retention)
			})
		})
	})
}

// secureHeaders keeps the console out of frames and its pages out of
// shared caches, and allows only its own scripts and styles.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// denied answers a cross-origin POST.
func (c *Console) denied(w http.ResponseWriter, r *http.Request) {
	c.plainError(w, r, http.StatusForbidden, "err.csrf")
}
