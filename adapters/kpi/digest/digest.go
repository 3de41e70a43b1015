// Package digest sends scheduled digests (the managers' KPI reports) as
// cards: on each schedule's cron time, in the schedule's zone, one queue
// message per recipient, each delivered through the chat pipeline at the
// platforms' rate and sent once per recipient and run.
//
// A run survives restarts without a record of its own. Its messages have
// fixed ids (schedule, run time, recipient), and the pipeline records every
// copy it sends (bot.Pipeline.Post), so publishing a run again sends only
// what was not sent. A scheduler starting up therefore publishes the last
// run that fell due within CatchUp again: a server that died in the middle
// of a run (or was down at its time) finishes it, and nobody gets a
// digest twice.
package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/queue"
)

// Topic is the queue topic of digest deliveries.
const Topic = "kpi.digest"

// Schedule is one digest: when it runs, in which zone, and to whom.
type Schedule struct {
	Name string
	// Cron is a five-field cron expression read in Zone.
	Cron string
	Zone *time.Location
	// To are user ids, role:<role> (everyone holding it when the run
	// starts) and chat:<platform>:<chat id>.
	To []string
}

// Render builds one recipient's card of a run; run is the scheduled time.
type Render func(ctx context.Context, s Schedule, run time.Time, r bot.Reader) (bot.Card, error)

// Poster delivers a card once per subject: *bot.Pipeline.
type Poster interface {
	Post(ctx context.Context, to bot.Audience, subject string, render func(context.Context, bot.Reader) (bot.Card, error)) error
}

// Roles lists the users holding a role: flows.Store.
type Roles interface {
	UsersWithRole(ctx context.Context, role string) ([]flows.User, error)
}

// Deps are what a Scheduler works with.
type Deps struct {
	Schedules []Schedule
	Queue     queue.Queue
	Poster    Poster
	Roles     Roles
	Render    Render
	// CatchUp is how late a run may still be published at start-up; 0
	// means 6 hours.
	CatchUp time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// Scheduler publishes the runs of its schedules and delivers their
// messages.
type Scheduler struct {
	d     Deps
	crons map[string]cron.Schedule
	byKey map[string]Schedule
}

// cronParser reads the standard five fields and descriptors (@daily).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron checks a schedule's cron expression.
func ParseCron(expr string) error {
	_, err := cronParser.Parse(expr)
	return err
}

// New returns a scheduler of d.Schedules; every schedule needs a name, a
// valid cron expression, a zone and recipients, and names must differ.
func New(d Deps) (*Scheduler, error) {
	if d.Queue == nil || d.Poster == nil || d.Roles == nil || d.Render == nil {
		return nil, errors.New("digest: queue, poster, roles and render are required")
	}
	if d.CatchUp <= 0 {
		d.CatchUp = 6 * time.Hour
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Scheduler{d: d, crons: map[string]cron.Schedule{}, byKey: map[string]Schedule{}}
	var errs []error
	for _, sc := range d.Schedules {
		c, err := cronParser.Parse(sc.Cron)
		switch {
		case sc.Name == "" || strings.ContainsAny(sc.Name, "/ "):
			errs = append(errs, fmt.Errorf("digest %q: a name without slashes or spaces is required", sc.Name))
		case err != nil:
			errs = append(errs, fmt.Errorf("digest %s: cron %q: %w", sc.Name, sc.Cron, err))
		case sc.Zone == nil:
			errs = append(errs, fmt.Errorf("digest %s: no time zone", sc.Name))
		case len(sc.To) == 0:
			errs = append(errs, fmt.Errorf("digest %s: no recipients", sc.Name))
		case s.crons[sc.Name] != nil:
			errs = append(errs, fmt.Errorf("digest %s: named twice", sc.Name))
		default:
			s.crons[sc.Name], s.byKey[sc.Name] = c, sc
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Next is the schedule's first run after t.
func (s *Scheduler) Next(name string, t time.Time) time.Time {
	return s.crons[name].Next(t.In(s.byKey[name].Zone))
}

// last is the schedule's latest run at or before t and after t-within;
// zero when there is none.
func (s *Scheduler) last(name string, t time.Time, within time.Duration) time.Time {
	var out time.Time
	for r := s.Next(name, t.Add(-within)); !r.IsZero() && !r.After(t); r = s.Next(name, r) {
		out = r
	}
	return out
}

// Run publishes runs as they fall due until ctx ends; first, the last run
// of each schedule due within CatchUp (see the package comment).
func (s *Scheduler) Run(ctx context.Context) error {
	now := s.d.Now()
	for _, sc := range s.d.Schedules {
		if r := s.last(sc.Name, now, s.d.CatchUp); !r.IsZero() {
			s.publishLogged(ctx, sc, r)
		}
	}
	for {
		now = s.d.Now()
		var next time.Time
		for _, sc := range s.d.Schedules {
			if r := s.Next(sc.Name, now); !r.IsZero() && (next.IsZero() || r.Before(next)) {
				next = r
			}
		}
		if next.IsZero() {
			<-ctx.Done()
			return nil
		}
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		for _, sc := range s.d.Schedules {
			if s.Next(sc.Name, next.Add(-time.Nanosecond)).Equal(next) {
				s.publishLogged(ctx, sc, next)
			}
		}
	}
}

func (s *Scheduler) publishLogged(ctx context.Context, sc Schedule, run time.Time) {
	n, err := s.Publish(ctx, sc.Name, run)
	if err != nil {
		s.d.Logger.Error("digest run not published; it is published again at the next start-up within its catch-up window",
			"digest", sc.Name, "run", run, "err", err)
		return
	}
	s.d.Logger.Info("digest run published", "digest", sc.Name, "run", run, "recipients", n)
}

// message is one recipient's delivery of a run.
type message struct {
	Schedule string    `json:"schedule"`
	Run      time.Time `json:"run"`
	UserID   string    `json:"user,omitempty"`
	Platform string    `json:"platform,omitempty"`
	ChatID   string    `json:"chat,omitempty"`
}

// Publish queues the run of schedule name at run for each recipient and
// reports how many. Publishing a run again is harmless (see the package
// comment).
func (s *Scheduler) Publish(ctx context.Context, name string, run time.Time) (int, error) {
	sc, ok := s.byKey[name]
	if !ok {
		return 0, fmt.Errorf("digest: no schedule %q", name)
	}
	audience, err := s.audience(ctx, sc)
	if err != nil {
		return 0, fmt.Errorf("digest %s: recipients: %w", name, err)
	}
	msgs := make([]queue.Message, 0, len(audience))
	for _, a := range audience {
		payload, err := json.Marshal(message{Schedule: name, Run: run.UTC(), UserID: a.UserID, Platform: a.Platform, ChatID: a.ChatID})
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, queue.Message{ID: "digest/" + name + "/" + run.UTC().Format(time.RFC3339) + "/" + a.String(),
			Key: name, Payload: payload})
	}
	if err := s.d.Queue.Publish(ctx, Topic, msgs...); err != nil {
		return 0, fmt.Errorf("digest %s: publish: %w", name, err)
	}
	return len(msgs), nil
}

// audience expands a schedule's recipients, each once.
func (s *Scheduler) audience(ctx context.Context, sc Schedule) ([]bot.Audience, error) {
	seen := map[string]bool{}
	var out []bot.Audience
	add := func(a bot.Audience) {
		if !seen[a.String()] {
			seen[a.String()] = true
			out = append(out, a)
		}
	}
	for _, to := range sc.To {
		switch {
		case strings.HasPrefix(to, "role:"):
			users, err := s.d.Roles.UsersWithRole(ctx, strings.TrimPrefix(to, "role:"))
			if err != nil {
				return nil, err
			}
			for _, u := range users {
				add(bot.Audience{UserID: u.ID})
			}
		case strings.HasPrefix(to, "chat:"):
			platform, chat, ok := strings.Cut(strings.TrimPrefix(to, "chat:"), ":")
			if !ok || platform == "" || chat == "" {
				return nil, fmt.Errorf("%q: expected chat:<platform>:<chat id>", to)
			}
			add(bot.Audience{Platform: platform, ChatID: chat})
		default:
			add(bot.Audience{UserID: to})
		}
	}
	return out, nil
}

// Handle is the queue handler of Topic: one recipient's copy of a run.
func (s *Scheduler) Handle(ctx context.Context, m queue.Message) error {
	var msg message
	if err := json.Unmarshal(m.Payload, &msg); err != nil {
		return queue.Permanent(fmt.Errorf("digest: message %s: %w", m.ID, err))
	}
	sc, ok := s.byKey[msg.Schedule]
	if !ok {
		// A schedule removed from the configuration since it was queued.
		s.d.Logger.Warn("digest message of an unknown schedule dropped", "digest", msg.Schedule, "id", m.ID)
		return nil
	}
	to := bot.Audience{UserID: msg.UserID, Platform: msg.Platform, ChatID: msg.ChatID}
	subject := "digest/" + sc.Name + "/" + msg.Run.In(sc.Zone).Format("2006-01-02T15:04")
	return s.d.Poster.Post(ctx, to, subject, func(ctx context.Context, r bot.Reader) (bot.Card, error) {
		if r.Zone == nil || r.ChatID != "" {
			r.Zone = sc.Zone
		}
		return s.d.Render(ctx, sc, msg.Run, r)
	})
}
