package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"cardflow/flows"
	"cardflow/queue"
)

// Renderer builds the card one reader sees of a task, an instance or a
// notice, from the engine's current state. *bot.Renderer is the one in use;
// tests pass fakes.
type Renderer interface {
	TaskCard(ctx context.Context, r Reader, taskID string, n *flows.NotificationIntent) (Card, error)
	InstanceCard(ctx context.Context, r Reader, instanceID string, n *flows.NotificationIntent) (Card, error)
	Notice(ctx context.Context, r Reader, n flows.NotificationIntent) (Card, error)
}

// Directory finds the people cards go to: flows.Store is one.
type Directory interface {
	User(ctx context.Context, id string) (flows.User, error)
	UserByPlatformID(ctx context.Context, platform, platformUserID string) (flows.User, error)
}

// Limiter is asked before every call to a platform, so a platform's limits
// are kept rather than discovered (WeCom drops what exceeds them without a
// word). Allow reports false with how long to wait when the call must not
// be made now. Keys name the platform and the reader or chat.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// PipelineDeps are what a Pipeline works with.
type PipelineDeps struct {
	// Platforms are the configured platforms by name (see Platform.Name).
	Platforms map[string]Platform
	Store     Store
	Directory Directory
	Render    Renderer
	// Limiter may be nil: no limit (the simulator).
	Limiter Limiter
	// Locks are shared with the inbound actions (see CardLocks); nil: the
	// pipeline's own.
	Locks *CardLocks
	// Sends counts every send and update by outcome; nil counts nothing.
	Sends  *Sends
	Logger *slog.Logger
	Now    func() time.Time
}

// Pipeline delivers notification intents as cards: for the intent's
// recipient on each of their platforms it sends the card, or updates in
// place the card that reader already has for the same task or instance;
// then it brings every other copy of the instance's cards up to the state
// the intent was committed with, so that after a decision the other 或签
// signers' cards say who decided and lose their buttons.
//
// Every card is rendered from the engine's current state, never from the
// intent alone, and recorded with the instance version it shows: a copy
// delivered twice or late finds its card already at that version and sends
// nothing, and an older state never overwrites a newer one (Store.PutCard
// refuses it, across server instances). So updates of one card coalesce:
// of five intents queued for it, the first sends the latest state and the
// others find nothing left to change. Within a process the deliveries of
// one card take turns (cardLocks), so this holds too when the queue hands
// a commit's intents to several handlers at once.
type Pipeline struct {
	d     PipelineDeps
	locks *cardLocks
}

// NewPipeline returns a pipeline; Platforms, Store, Directory and Render are
// required.
func NewPipeline(d PipelineDeps) (*Pipeline, error) {
	switch {
	case d.Store == nil, d.Directory == nil, d.Render == nil:
		return nil, errors.New("bot: pipeline: store, directory and renderer are required")
	case len(d.Platforms) == 0:
		return nil, errors.New("bot: pipeline: no platform configured")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Locks == nil {
		d.Locks = NewCardLocks()
	}
	return &Pipeline{d: d, locks: &d.Locks.l}, nil
}

// Handle is the queue handler of flows.NotifyTopic.
func (p *Pipeline) Handle(ctx context.Context, m queue.Message) error {
	var n flows.NotificationIntent
	if err := json.Unmarshal(m.Payload, &n); err != nil {
		return queue.Permanent(fmt.Errorf("bot: notification %s: %w", m.ID, err))
	}
	if n.Recipient == "" || n.InstanceID == "" {
		return queue.Permanent(fmt.Errorf("bot: notification %s: no recipient or instance", m.ID))
	}
	if m.Limited > 0 {
		ctx = context.WithValue(ctx, returningKey{}, true)
	}
	return p.Deliver(ctx, n)
}

// target is the card an intent shows its recipient.
type target struct {
	subject string
	kind    cardKind
	// send says a missing card is sent; otherwise only an existing card is
	// updated (a task closed that its holder was never shown).
	send bool
	// upTo is, for a card refreshed to a commit's state, the version of
	// that commit: a card recorded at it or later is left as it is,
	// without rendering it (another intent of the commit got there first).
	upTo int64
}

type cardKind int

const (
	taskCard cardKind = iota
	instanceCard
	noticeCard
)

// targetOf maps an intent to its card. A reminder and a comment are new
// messages, so that the reader's chat app notifies them; the rest show one
// card per task or instance, updated in place.
func targetOf(n flows.NotificationIntent) target {
	switch n.Kind {
	case flows.NotifyTaskAssigned:
		return target{subject: n.TaskID, kind: taskCard, send: true}
	case flows.NotifyTaskClosed:
		return target{subject: n.TaskID, kind: taskCard}
	case flows.NotifyReminder:
		return target{subject: n.TaskID + remindMark + strconv.FormatInt(n.Version, 10), kind: taskCard, send: true}
	case flows.NotifyComment:
		return target{subject: n.InstanceID + commentMark + strconv.FormatInt(n.Version, 10), kind: noticeCard, send: true}
	case flows.NotifyReturned:
		// Returned to the applicant: the task card of the return is the
		// new message; the instance card they have is brought up to date.
		if n.StepID == flows.ReturnToApplicant {
			return target{subject: n.InstanceID, kind: instanceCard}
		}
	}
	if n.TaskID != "" {
		// An alert's holder acts on their task of it: its card has the
		// 认领 / 暂停提醒 / 解决 buttons. The first page and an escalation
		// bring it; a later page (new alerts, a repeat, a snooze's end)
		// is a new message, so that the phone rings again, as a reminder is.
		switch n.Kind {
		case flows.NotifyAlertFired:
			if n.Cause == flows.CauseAlertFirst {
				return target{subject: n.TaskID, kind: taskCard, send: true}
			}
			return target{subject: n.TaskID + pageMark + strconv.FormatInt(n.Version, 10), kind: taskCard, send: true}
		case flows.NotifyAlertEscalated:
			return target{subject: n.TaskID, kind: taskCard, send: true}
		case flows.NotifyAlertAcknowledged, flows.NotifyAlertResolved:
			return target{subject: n.TaskID, kind: taskCard}
		}
	}
	// decision, returned, withdrawn, cancelled, finished, cc: the
	// instance as a whole.
	return target{subject: n.InstanceID, kind: instanceCard, send: true}
}

// Deliver delivers one intent (see Pipeline).
func (p *Pipeline) Deliver(ctx context.Context, n flows.NotificationIntent) error {
	t := targetOf(n)
	// Any state at or after the commit's will do for its cards and the
	// copies it refreshes: they share one read, and a later commit's cards
	// bring what it changed.
	ctx = flows.ViewAtLeast(ctx, n.Version)
	var errs []error
	user, err := p.d.Directory.User(ctx, n.Recipient)
	switch {
	case errors.Is(err, flows.ErrNotFound):
		p.d.Logger.Warn("notification to a user no longer in the org directory", "user", n.Recipient, "key", n.Key)
	case err != nil:
		return fmt.Errorf("bot: recipient %s: %w", n.Recipient, err)
	default:
		for name, pl := range p.d.Platforms {
			pid := user.PlatformIDs[name]
			if pid == "" {
				continue
			}
			r := readerOf(user, pid)
			if err := p.deliver(ctx, pl, r, t, &n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// The first intent of a commit brings the instance's other cards up to
	// the commit's state, whether or not its own recipient could be told;
	// the commit's other intents leave that to it (NoRefresh). The commit
	// that started an instance (version 1) has no older state for any card
	// to show: nothing to refresh, and no read to learn so.
	if !n.NoRefresh && n.Version != 1 {
		if err := p.refresh(ctx, n, CardKey{Subject: t.subject, Recipient: n.Recipient}); err != nil {
			errs = append(errs, err)
		}
	}
	return firstRetry(errs)
}

// refresh brings every card of the instance that shows a state older than
// the intent's up to date, except the one just delivered.
func (p *Pipeline) refresh(ctx context.Context, n flows.NotificationIntent, done CardKey) error {
	cards, err := p.d.Store.InstanceCards(ctx, n.InstanceID)
	if err != nil {
		return fmt.Errorf("bot: cards of %s: %w", n.InstanceID, err)
	}
	var errs []error
	for _, c := range cards {
		if c.StateVersion >= n.Version || (c.Recipient == done.Recipient && c.Subject == done.Subject) {
			continue
		}
		pl := p.d.Platforms[c.Platform]
		if pl == nil {
			continue // a platform no longer configured
		}
		user, err := p.d.Directory.User(ctx, c.Recipient)
		if err != nil {
			if !errors.Is(err, flows.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		kind := taskCard
		switch {
		case c.Subject == n.InstanceID:
			kind = instanceCard
		case isNotice(c.Subject):
			continue // a comment notice says what it said; nothing to refresh
		}
		t := target{subject: c.Subject, kind: kind, upTo: n.Version}
		if err := p.deliver(ctx, pl, readerOf(user, user.PlatformIDs[c.Platform]), t, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return firstRetry(errs)
}

// deliver renders t for r and sends it, or updates r's card in place.
func (p *Pipeline) deliver(ctx context.Context, pl Platform, r Reader, t target, n *flows.NotificationIntent) error {
	key := CardKey{Platform: pl.Name(), Recipient: r.UserID, Subject: t.subject}
	if err := p.putOff(ctx, pl.Name(), r); err != nil {
		return err
	}
	unlock, err := p.locks.lock(ctx, key)
	if err != nil {
		return fmt.Errorf("bot: card %s: %w", key, err)
	}
	defer unlock()
	old, err := p.d.Store.Card(ctx, key)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bot: card %s: %w", key, err)
	}
	if (!exists && !t.send) || (exists && t.upTo > 0 && old.StateVersion >= t.upTo) {
		return nil
	}
	card, err := p.render(ctx, r, t, n)
	if errors.Is(err, flows.ErrNotParticipant) || errors.Is(err, flows.ErrNotFound) {
		// The reader may no longer see it (a task transferred away before
		// its card went out): nothing to show them.
		return nil
	} else if err != nil {
		return fmt.Errorf("bot: render %s: %w", key, err)
	}
	digest := card.Digest()
	if exists && (old.StateVersion > card.Version || (old.StateVersion == card.Version && old.Digest == digest)) {
		return nil // already shows this state, or a newer one
	}
	if err := p.allow(ctx, pl.Name(), r); err != nil {
		return err
	}
	now := p.d.Now()
	var sent Sent
	if exists {
		sent, err = pl.Update(ctx, r, old, card)
	} else {
		sent, err = pl.Send(ctx, r, card)
	}
	p.d.Sends.observe(pl.Name(), err)
	if err != nil {
		op := "send"
		if exists {
			op = "update"
		}
		return fmt.Errorf("bot: %s %s: %w", op, key, err)
	}
	rec := CardMessage{CardKey: key, InstanceID: card.InstanceID, MessageID: sent.MessageID, UpdateToken: sent.UpdateToken,
		TokenExpires: sent.TokenExpires, StateVersion: card.Version, Digest: digest, SentAt: now, UpdatedAt: now}
	if exists {
		rec.SentAt = old.SentAt
		if rec.MessageID == "" {
			rec.MessageID = old.MessageID
		}
	}
	applied, err := p.d.Store.PutCard(ctx, rec)
	if err != nil {
		return fmt.Errorf("bot: record %s: %w", key, err)
	}
	if !applied {
		p.d.Logger.Info("card state already recorded by another delivery", "card", key.String(), "version", card.Version)
	}
	return nil
}

func (p *Pipeline) render(ctx context.Context, r Reader, t target, n *flows.NotificationIntent) (Card, error) {
	var (
		c   Card
		err error
	)
	switch t.kind {
	case taskCard:
		c, err = p.d.Render.TaskCard(ctx, r, taskOfSubject(t.subject), n)
	case instanceCard:
		c, err = p.d.Render.InstanceCard(ctx, r, t.subject, n)
	default:
		c, err = p.d.Render.Notice(ctx, r, *n)
	}
	c.Subject = t.subject
	return c, err
}

// putOff hands a delivery back to the queue before its card is read and
// rendered when r's limit on platform has no slot for it within
// MaxLimitWait, with the wait for its place in the limit's line (see
// Liner): while a backlog waits for a slow platform (Feishu: 1,000 a
// minute per app) each card is put off about once, for about as long as
// its turn takes, at the cost of a limiter call, instead of coming back
// every few hundred milliseconds to be read, rendered and refused. A
// delivery back from a put-off asks for the next free slot, not a new
// place. allow still takes the slot after the render.
func (p *Pipeline) putOff(ctx context.Context, platform string, r Reader) error {
	if p.d.Limiter == nil {
		return nil
	}
	key := limitKey(platform, r)
	ok, wait, err := Place(ctx, p.d.Limiter, key, MaxLimitWait, returning(ctx))
	if err != nil {
		return fmt.Errorf("bot: rate limiter: %w", err)
	}
	if !ok {
		return queue.RateLimited(fmt.Errorf("bot: rate limit for %s", key), wait)
	}
	return nil
}

// returningKey marks a context whose delivery is back from a put-off.
type returningKey struct{}

func returning(ctx context.Context) bool {
	back, _ := ctx.Value(returningKey{}).(bool)
	return back
}

// limitKey is the limiter key ("platform:reader") of a call to platform
// for r: the chat for a group card, the reader's platform id otherwise.
func limitKey(platform string, r Reader) string {
	if r.ChatID != "" {
		return platform + ":chat:" + r.ChatID
	}
	return platform + ":" + r.PlatformUserID
}

// allow asks the limiter for a call to platform for r, waiting in place
// for a slot that frees soon (see Take); a refusal is a rate-limited error
// the queue retries after the wait.
func (p *Pipeline) allow(ctx context.Context, platform string, r Reader) error {
	if p.d.Limiter == nil {
		return nil
	}
	key := limitKey(platform, r)
	ok, after, err := Take(ctx, p.d.Limiter, key, MaxLimitWait)
	if err != nil {
		return fmt.Errorf("bot: rate limiter: %w", err)
	}
	if !ok {
		return queue.RateLimited(fmt.Errorf("bot: rate limit for %s", key), after)
	}
	return nil
}

// readerOf is user as a reader on one platform: their locale and time
// zone from the org directory.
func readerOf(u flows.User, platformUserID string) Reader {
	r := ReaderFor(u, "")
	r.PlatformUserID = platformUserID
	return r
}

// Subjects of new-message cards carry a suffix after the task or instance
// id: "<task>#remind-<version>", "<task>#page-<version>",
// "<instance>#comment-<version>".
const (
	remindMark  = "#remind-"
	pageMark    = "#page-"
	commentMark = "#comment-"
)

// taskOfSubject strips a reminder's suffix from a task card's subject.
func taskOfSubject(subject string) string {
	id, _, _ := strings.Cut(subject, "#")
	return id
}

func isNotice(subject string) bool { return strings.Contains(subject, commentMark) }

// firstRetry returns the error the queue should act on: a rate limit first
// (it says when to come back), then any retryable one, then a permanent
// one; nil when all succeeded.
func firstRetry(errs []error) error {
	var permanent error
	for _, err := range errs {
		if _, ok := queue.RetryAfter(err); ok {
			return err
		}
	}
	for _, err := range errs {
		if !queue.IsPermanent(err) {
			return err
		}
		permanent = err
	}
	return permanent
}
