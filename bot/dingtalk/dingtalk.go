package dingtalk

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"cardflow/bot"
	"cardflow/bot/token"
	"cardflow/config"
)

// Name is the platform's key in users' platform ids.
const Name = "dingtalk"

// Limits are DingTalk's limits as declared to the limiter. The app's
// OpenAPI calls: 20 a second on the standard plan (the professional plan
// allows 40), with a modest pace per reader so that one busy instance
// cannot starve the others. A custom robot: 20 messages a minute, after
// which DingTalk blocks it for ten minutes (errcode 130101), so the robot
// limit keeps a steady pace (burst 1) that never has 21 in any minute.
var Limits = map[string]bot.Limits{
	Name: {
		App:    bot.Rate{Count: 20, Per: time.Second, Burst: 10},
		Reader: bot.Rate{Count: 30, Per: time.Minute, Burst: 10},
	},
	Name + "-robot": {
		Reader: bot.Rate{Count: 20, Per: time.Minute, Burst: 1},
	},
}

// Deps are what the platform works with.
type Deps struct {
	// Inbound takes decoded clicks and messages.
	Inbound bot.Inbound
	// Store dedupes inbound events (bot.AnswerOnce).
	Store bot.Store
	// Directory maps DingTalk user ids to org users; may be nil.
	Directory bot.Directory
	// Limiter is asked before each robot post; nil for none.
	Limiter bot.Limiter
	Log     *slog.Logger
	// HTTP is the client of every call; nil for one with cfg.Timeout.
	HTTP *http.Client
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Stream tunes the stream connection; zero values take the defaults.
	Stream StreamOptions
}

// Platform is DingTalk: it sends and updates interactive cards through
// the app's robot and takes clicks and messages from the stream (or robot
// messages over HTTP in webhook mode). It is safe for concurrent use.
type Platform struct {
	cfg    config.DingTalkConfig
	deps   Deps
	log    *slog.Logger
	now    func() time.Time
	http   *http.Client
	base   string
	tokens *token.Source
	robots map[string]*Robot
	// crypt opens the HTTP event subscription's events; nil without a
	// token and aes_key.
	crypt *crypter

	closeOnce sync.Once
	closed    chan struct{}
	// bg runs the answers to robot messages, sent after the ack; once
	// stopped (by Close) no more start, so that Close can wait for them.
	bgMu    sync.Mutex
	stopped bool
	bg      sync.WaitGroup
}

// New returns the platform for cfg, which config has validated.
func New(cfg config.DingTalkConfig, deps Deps) (*Platform, error) {
	if deps.Inbound == nil || deps.Store == nil {
		return nil, errors.New("dingtalk: deps: Inbound and Store are required")
	}
	if cfg.ClientID == "" || cfg.ClientSecret.IsZero() || cfg.RobotCode == "" || cfg.CardTemplateID == "" {
		return nil, errors.New("dingtalk: client_id, client_secret, robot_code and card_template_id are required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, errors.New("dingtalk: base_url is not an http(s) URL")
	}
	if cfg.Mode == "" {
		cfg.Mode = config.ModeStream
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	p := &Platform{cfg: cfg, deps: deps, log: deps.Log, now: deps.Now, http: deps.HTTP,
		base: strings.TrimRight(cfg.BaseURL, "/"), closed: make(chan struct{})}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.http == nil {
		p.http = &http.Client{Timeout: cfg.Timeout}
	}
	if !cfg.Token.IsZero() && !cfg.AESKey.IsZero() {
		if p.crypt, err = newCrypter(cfg.Token.Reveal(), cfg.AESKey.Reveal(), cfg.ClientID); err != nil {
			return nil, fmt.Errorf("dingtalk: %w", err)
		}
	}
	p.tokens = token.New(p.fetchToken, token.Options{Now: p.now})
	robots, err := config.ParseRobots(cfg.Robots)
	if err != nil {
		return nil, fmt.Errorf("dingtalk: robots: %w", err)
	}
	p.robots = map[string]*Robot{}
	for _, r := range robots {
		p.robots[r.Name] = &Robot{p: p, name: r.Name, url: r.URL, secret: r.SignSecret}
	}
	return p, nil
}

// Name returns "dingtalk".
func (p *Platform) Name() string { return Name }

// Tokens is the platform's access token source, for tests that count
// fetches.
func (p *Platform) Tokens() *token.Source { return p.tokens }

// Close stops the stream connection, if Run keeps one, and waits for the
// answers to robot messages still being sent.
func (p *Platform) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	p.bgMu.Lock()
	p.stopped = true
	p.bgMu.Unlock()
	p.bg.Wait()
	return nil
}

// Robot returns the configured group robot of that name.
func (p *Platform) Robot(name string) (*Robot, bool) {
	r, ok := p.robots[name]
	return r, ok
}
