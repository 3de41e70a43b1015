package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/queue"
)

// Name is the simulator's platform name, its key in users' platform ids.
const Name = "sim"

// Store is the part of flows.Store the simulator reads: the org directory
// and the flows' definitions. flows.Store satisfies it.
type Store interface {
	User(ctx context.Context, id string) (flows.User, error)
	UserByPlatformID(ctx context.Context, platform, platformUserID string) (flows.User, error)
	Department(ctx context.Context, id string) (flows.Department, error)
	Definitions(ctx context.Context) ([]flows.Definition, error)
}

// Deps are what the simulator works with. Inbound, Engine, Store and Users
// serve the web page; leave all four nil for a platform without a page (the
// pipeline's tests use it so, as their fake platform).
type Deps struct {
	// Inbound takes the page's clicks and messages, as it takes a real
	// platform's decoded callbacks.
	Inbound bot.Inbound
	// Engine lists flows and starts them.
	Engine *flows.Engine
	Store  Store
	// Users lists the org's users, in the order the page shows them.
	Users func(ctx context.Context) ([]flows.User, error)
	Log   *slog.Logger
	// Now is the clock the messages' times are read from; time.Now if nil.
	Now func() time.Time
}

// Platform is the simulator. It is safe for concurrent use.
type Platform struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	now  func() time.Time
	// boot prefixes message ids, so that an id handed out before a restart
	// (still in the pipeline's store) never names a new message.
	boot string

	mu       sync.Mutex
	rev      int64 // bumped by every change of any inbox
	seq      int64 // numbers messages in the order they were first shown
	inboxes  map[string]*inbox
	chats    []Chat // configured first, then those cards were sent to
	changed  chan struct{}
	closed   chan struct{}
	failures []error
	failFn   func(Call) error
	calls    []Call
}

// maxCalls bounds the call log Calls returns.
const maxCalls = 1000

// New returns the simulator. cfg gets its defaults and is validated;
// deps must give Inbound, Engine, Store and Users together, or none.
func New(cfg Config, deps Deps) (*Platform, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.check(); err != nil {
		return nil, err
	}
	p := &Platform{
		cfg: cfg, deps: deps, log: deps.Log, now: deps.Now,
		boot:    randomHex(3),
		inboxes: map[string]*inbox{},
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.chats = append(p.chats, cfg.Chats...)
	return p, nil
}

func (d Deps) check() error {
	var missing []string
	for _, dep := range []struct {
		name string
		set  bool
	}{{"Inbound", d.Inbound != nil}, {"Engine", d.Engine != nil}, {"Store", d.Store != nil}, {"Users", d.Users != nil}} {
		if !dep.set {
			missing = append(missing, dep.name)
		}
	}
	if len(missing) == 0 || len(missing) == 4 {
		return nil
	}
	return fmt.Errorf("sim: deps: %v missing: the page needs Inbound, Engine, Store and Users together (or none, for a platform without a page)", missing)
}

// web reports whether the page's dependencies were given.
func (p *Platform) web() bool { return p.deps.Inbound != nil }

// Name returns "sim".
func (p *Platform) Name() string { return Name }

// Op names a platform call.
type Op string

// The platform calls.
const (
	OpSend   Op = "send"
	OpUpdate Op = "update"
)

// Call is one Send or Update as the simulator received it, and its outcome.
type Call struct {
	Op Op
	To bot.Reader
	// Message is the message an Update named; zero for a Send.
	Message bot.CardMessage
	Card    bot.Card
	// MessageID is the message sent or updated; "" when the call failed.
	MessageID string
	Err       error
}

// Send shows c as a new message in the reader's inbox (a person's
// conversation with the bot, or a group chat) and returns its message id.
// A reader with neither a platform user id nor a chat id is a permanent
// error.
func (p *Platform) Send(ctx context.Context, to bot.Reader, c bot.Card) (bot.Sent, error) {
	return p.call(ctx, Call{Op: OpSend, To: to, Card: c})
}

// Update replaces the card shown by message m in the reader's inbox, where
// it stays in place. A message the simulator does not know (it forgot it
// at a restart, or it fell out of the bounded inbox) is shown anew under
// the same id.
func (p *Platform) Update(ctx context.Context, to bot.Reader, m bot.CardMessage, c bot.Card) (bot.Sent, error) {
	if m.MessageID == "" {
		return bot.Sent{}, queue.Permanent(errors.New("sim: update: no message id"))
	}
	return p.call(ctx, Call{Op: OpUpdate, To: to, Message: m, Card: c})
}

func (p *Platform) call(ctx context.Context, c Call) (bot.Sent, error) {
	key, err := inboxOf(c.To)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = p.injected(c)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		at := p.now()
		msg := Message{Kind: KindCard, Card: cloneCard(c.Card), SentAt: at, UpdatedAt: at}
		if c.Op == OpUpdate {
			msg.ID = c.Message.MessageID
		}
		c.MessageID = p.put(key, c.To.Name, msg)
	}
	c.Err = err
	p.calls = append(p.calls, c)
	if len(p.calls) > maxCalls {
		p.calls = p.calls[len(p.calls)-maxCalls:]
	}
	if err != nil {
		// A failed call changes no inbox but is a call to see: wake those
		// who wait on the calls (a test waiting for a refused card).
		p.notify()
		return bot.Sent{}, fmt.Errorf("sim: %s to %s: %w", c.Op, key, err)
	}
	return bot.Sent{MessageID: c.MessageID}, nil
}

// injected returns the failure FailNext queued or the failure hook's, if
// any, for this call.
func (p *Platform) injected(c Call) error {
	p.mu.Lock()
	if len(p.failures) > 0 {
		err := p.failures[0]
		p.failures = p.failures[1:]
		p.mu.Unlock()
		return err
	}
	fn := p.failFn
	p.mu.Unlock()
	if fn != nil {
		return fn(c)
	}
	return nil
}

// FailNext makes the next len(errs) calls of Send or Update, in order,
// return these errors (wrapped) and change nothing; a nil entry lets its
// call succeed. Pass queue.Permanent or queue.RateLimited errors to test
// how the pipeline classifies them.
func (p *Platform) FailNext(errs ...error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, errs...)
}

// FailWith sets a hook asked by every Send and Update after the errors of
// FailNext are used up: a non-nil answer fails the call. nil removes it.
// The hook runs outside the simulator's lock and may block (to hold a call
// in flight while a test looks).
func (p *Platform) FailWith(fn func(Call) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failFn = fn
}

// Calls returns the last Send and Update calls (at most 1,000), oldest
// first, failed ones included.
func (p *Platform) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Messages returns what the reader's inbox shows, oldest first.
func (p *Platform) Messages(to bot.Reader) []Message {
	key, err := inboxOf(to)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.messages(key, 0)
}

// Changed returns a channel closed at the next change of any inbox and at
// the next failed call.
func (p *Platform) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// Wait returns once cond reports true, testing it now and after every
// change of an inbox and every failed call, or with ctx's error. Tests
// wait with it for a delivery instead of sleeping.
func (p *Platform) Wait(ctx context.Context, cond func() bool) error {
	for {
		ch := p.Changed()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("sim: wait: %w", ctx.Err())
		}
	}
}

// Close ends the page's event streams, which otherwise stay open until
// their browsers leave, so that the server can shut down. Send and Update
// still work after it.
func (p *Platform) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
