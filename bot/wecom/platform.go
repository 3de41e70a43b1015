package wecom

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/queue"
)

// Name is WeCom's key in users' platform ids (their WeCom userid).
const Name = "wecom"

// Limits are WeCom's limits as the pipeline's limiter keeps them, below
// WeCom's own because WeCom drops what exceeds a member's limit without a
// word: 30 messages a minute and 1,000 an hour per member, so at most 10
// at once and 900 an hour (never more than 25 in a minute); 10,000 calls a
// minute and 150,000 an hour per API and company, so 2,400 a minute. A
// group robot takes 20 messages a minute: 18, at most 2 at once.
var Limits = map[string]bot.Limits{
	Name: {
		App:    bot.Rate{Count: 2400, Per: time.Minute, Burst: 100},
		Reader: bot.Rate{Count: 900, Per: time.Hour, Burst: 10},
	},
	Name + "-robot": {Reader: bot.Rate{Count: 18, Per: time.Minute, Burst: 2}},
}

// updateCodeLife is how long a response_code works: 72 hours, less a
// margin for clocks.
const updateCodeLife = 72*time.Hour - time.Minute

// Deps are what the platform works with.
type Deps struct {
	// Inbound takes decoded clicks and messages.
	Inbound bot.Inbound
	// Store keeps update codes and answered events.
	Store bot.Store
	// Directory maps a WeCom userid to the org user (to key a card's
	// update code, and a reply's language).
	Directory bot.Directory
	// Limiter may be nil; robots and replies to messages ask it first.
	Limiter bot.Limiter
	Log     *slog.Logger
	// HTTP nil is a client with the config's timeout.
	HTTP *http.Client
	Now  func() time.Time
}

// Platform is the WeCom app, its callback and its robots. It is safe for
// concurrent use.
type Platform struct {
	cfg      config.WeComConfig
	deps     Deps
	log      *slog.Logger
	now      func() time.Time
	api      *client
	crypto   *Crypto // the app's callback
	botCrypt *Crypto // the smart robot's; nil when not configured
	robots   map[string]*Robot

	// background are replies still being sent after their callback was
	// answered; Close waits for them.
	background sync.WaitGroup
	closing    chan struct{}
	closeOnce  sync.Once
}

var _ bot.Platform = (*Platform)(nil)

// New returns the platform of cfg (validated by config).
func New(cfg config.WeComConfig, deps Deps) (*Platform, error) {
	if deps.Inbound == nil || deps.Store == nil || deps.Directory == nil {
		return nil, errors.New("wecom: Inbound, Store and Directory are required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if deps.HTTP == nil {
		deps.HTTP = &http.Client{Timeout: cfg.Timeout}
	}
	cr, err := NewCrypto(cfg.Token.Reveal(), cfg.EncodingAESKey.Reveal(), cfg.CorpID)
	if err != nil {
		return nil, fmt.Errorf("wecom: callback: %w", err)
	}
	p := &Platform{cfg: cfg, deps: deps, log: deps.Log, now: deps.Now, crypto: cr,
		api:     newClient(cfg.BaseURL, deps.HTTP, cfg.CorpID, cfg.Secret.Reveal(), deps.Now),
		robots:  map[string]*Robot{},
		closing: make(chan struct{})}
	if !cfg.BotToken.IsZero() {
		if p.botCrypt, err = NewCrypto(cfg.BotToken.Reveal(), cfg.BotEncodingAESKey.Reveal(), ""); err != nil {
			return nil, fmt.Errorf("wecom: smart robot: %w", err)
		}
	}
	robots, err := config.ParseRobots(cfg.Robots)
	if err != nil {
		return nil, fmt.Errorf("wecom: robots: %w", err)
	}
	for _, r := range robots {
		p.robots[r.Name] = &Robot{name: r.Name, url: r.URL, p: p}
	}
	return p, nil
}

// Name returns "wecom".
func (p *Platform) Name() string { return Name }

// Run returns at once: WeCom posts callbacks to Handler, there is no
// connection to keep.
func (p *Platform) Run(context.Context) error { return nil }

// closeGrace is how long Close lets replies being sent finish before it
// cancels them.
const closeGrace = 5 * time.Second

// Close waits for replies still being sent, cancelling those not done
// within a few seconds.
func (p *Platform) Close() error {
	done := make(chan struct{})
	go func() {
		p.background.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeGrace):
		p.closeOnce.Do(func() { close(p.closing) })
		<-done
	}
	return nil
}

// sendRequest is message/send with a template card.
type sendRequest struct {
	ToUser       string       `json:"touser"`
	MsgType      string       `json:"msgtype"`
	AgentID      int          `json:"agentid"`
	TemplateCard TemplateCard `json:"template_card"`
}

type sendReply struct {
	base
	InvalidUser  string `json:"invaliduser"`
	MsgID        string `json:"msgid"`
	ResponseCode string `json:"response_code"`
}

// Send sends c to the reader as a template card. The card's task_id is the
// message id; the response_code that comes back is the update token. An
// app sends cards to people only: a group chat is a permanent error (its
// cards go through a robot).
func (p *Platform) Send(ctx context.Context, to bot.Reader, c bot.Card) (bot.Sent, error) {
	if to.ChatID != "" || to.PlatformUserID == "" {
		return bot.Sent{}, queue.Permanent(errors.New("wecom: send: an app card goes to one person's userid, not to a group chat"))
	}
	taskID := newTaskID()
	tc, err := Render(c, to.Locale, taskID)
	if err != nil {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("wecom: send card %s: %w", c.Subject, err))
	}
	var out sendReply
	err = p.api.call(ctx, "/cgi-bin/message/send",
		sendRequest{ToUser: to.PlatformUserID, MsgType: "template_card", AgentID: p.cfg.AgentID, TemplateCard: tc}, &out)
	if err == nil && out.InvalidUser != "" {
		err = queue.Permanent(errors.New("the userid is not in the app's visible range"))
	}
	if err != nil {
		return bot.Sent{}, fmt.Errorf("wecom: send card %s to %s: %w", c.Subject, to.PlatformUserID, err)
	}
	return bot.Sent{MessageID: taskID, UpdateToken: out.ResponseCode, TokenExpires: p.now().Add(updateCodeLife)}, nil
}

// updateRequest is update_template_card with a whole new card.
type updateRequest struct {
	UserIDs      []string     `json:"userids"`
	AgentID      int          `json:"agentid"`
	ResponseCode string       `json:"response_code"`
	TemplateCard TemplateCard `json:"template_card"`
}

type updateReply struct {
	base
	InvalidUser []string `json:"invaliduser"`
}

// Update replaces the card of message m for the reader with c, spending
// the card's response_code (taken from the store atomically: each works
// once, across server instances). With no code left (all spent, or older
// than 72 hours) or one WeCom refuses, a card the reader must still act on
// is sent anew; any other card is left as it was, which is logged.
func (p *Platform) Update(ctx context.Context, to bot.Reader, m bot.CardMessage, c bot.Card) (bot.Sent, error) {
	if to.ChatID != "" || to.PlatformUserID == "" {
		return bot.Sent{}, queue.Permanent(errors.New("wecom: update: an app card goes to one person's userid, not to a group chat"))
	}
	code, err := p.deps.Store.TakeCardToken(ctx, m.CardKey, m.MessageID, p.now())
	if err != nil {
		return bot.Sent{}, fmt.Errorf("wecom: update card %s: take its code: %w", m.MessageID, err)
	}
	if code == "" {
		return p.cannotUpdate(ctx, to, m, c, "no update code left")
	}
	tc, err := Render(c, to.Locale, m.MessageID)
	if err != nil {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("wecom: update card %s: %w", m.MessageID, err))
	}
	var out updateReply
	err = p.api.call(ctx, "/cgi-bin/message/update_template_card",
		updateRequest{UserIDs: []string{to.PlatformUserID}, AgentID: p.cfg.AgentID, ResponseCode: code, TemplateCard: tc}, &out)
	switch {
	case err == nil:
		return bot.Sent{MessageID: m.MessageID}, nil
	case queue.IsPermanent(err):
		return p.cannotUpdate(ctx, to, m, c, "WeCom refused the update code: "+err.Error())
	}
	// The code may be unused (a timeout, a rate limit): keep it for the
	// retry.
	if _, serr := p.deps.Store.SetCardToken(ctx, m.CardKey, m.MessageID, code, p.now().Add(time.Hour)); serr != nil {
		p.log.Warn("could not keep an unused update code", "card", m.CardKey.String(), "err", serr)
	}
	return bot.Sent{}, fmt.Errorf("wecom: update card %s: %w", m.MessageID, err)
}

// cannotUpdate handles a card that cannot be updated in place: sent anew
// when it still offers buttons, left as it was otherwise.
func (p *Platform) cannotUpdate(ctx context.Context, to bot.Reader, m bot.CardMessage, c bot.Card, why string) (bot.Sent, error) {
	for _, b := range c.Buttons {
		if !b.NeedsInput {
			p.log.Info("card sent anew: it cannot be updated in place", "card", m.CardKey.String(), "reason", why)
			return p.Send(ctx, to, c)
		}
	}
	p.log.Info("card left as it was: it cannot be updated in place and offers nothing to do",
		"card", m.CardKey.String(), "reason", why)
	return bot.Sent{MessageID: m.MessageID}, nil
}

// newTaskID names a card message: cf- and 24 random hex digits.
func newTaskID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "cf-" + hex.EncodeToString(b)
}
