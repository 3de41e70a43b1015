// Package feishu is the Feishu (Lark) chat platform: it renders neutral
// cards as Feishu card JSON 2.0, sends and updates them through the open
// platform's IM API, takes card clicks and messages to the bot as signed,
// encrypted callbacks (over HTTP, or over the long connection in stream
// mode), and posts to custom group bots.
package feishu

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"

	"cardflow/bot"
	"cardflow/bot/token"
	"cardflow/config"
)

// Name is the platform's key in users' platform ids.
const Name = "feishu"

// Limits are Feishu's rate limits as the limiter keeps them. The app may
// send or update 1,000 messages a minute (and 50 a second) and a reader or
// chat takes about 5 a second; one limit for sends and updates together
// keeps well inside both. A custom group bot takes 100 a minute and 5 a
// second.
var Limits = map[string]bot.Limits{
	Name: {
		App:    bot.Rate{Count: 1000, Per: time.Minute, Burst: 10},
		Reader: bot.Rate{Count: 5, Per: time.Second, Burst: 5},
	},
	Name + "-robot": {
		Reader: bot.Rate{Count: 95, Per: time.Minute, Burst: 5},
	},
}

// Deps are what the platform works with.
type Deps struct {
	// Inbound takes decoded clicks and messages.
	Inbound bot.Inbound
	// Store remembers answered events, so a retried callback is answered
	// once.
	Store bot.Store
	// Directory finds the reader's locale for the cards of an answer.
	Directory bot.Directory
	// Limiter is asked before each post to a group bot; nil for none.
	Limiter bot.Limiter
	Log     *slog.Logger
	// HTTP is the client for the open platform; nil for one with the
	// configured timeout.
	HTTP *http.Client
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Platform is the Feishu platform. It is safe for concurrent use.
type Platform struct {
	cfg    config.FeishuConfig
	deps   Deps
	log    *slog.Logger
	now    func() time.Time
	http   *http.Client
	client *lark.Client
	tokens *token.Source
	disp   *dispatcher.EventDispatcher
	robots map[string]*Robot

	botMu     sync.Mutex
	botOpenID string

	// replies are the answers to messages being sent; Close waits for
	// them. closed (under replyMu) stops new ones being added meanwhile.
	replyMu sync.Mutex
	closed  bool
	replies sync.WaitGroup
}

// New returns the platform for cfg. cfg is validated by the config
// package; New checks only what it needs to run.
func New(cfg config.FeishuConfig, deps Deps) (*Platform, error) {
	var missing []string
	if cfg.AppID == "" || cfg.AppSecret.IsZero() {
		missing = append(missing, "app_id and app_secret")
	}
	if cfg.VerificationToken.IsZero() || cfg.EncryptKey.IsZero() {
		missing = append(missing, "verification_token and encrypt_key")
	}
	if cfg.BaseURL == "" {
		missing = append(missing, "base_url")
	}
	if deps.Inbound == nil || deps.Store == nil || deps.Directory == nil {
		missing = append(missing, "deps Inbound, Store and Directory")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("feishu: %s required", strings.Join(missing, ", "))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Mode == "" {
		cfg.Mode = config.ModeWebhook
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	p := &Platform{cfg: cfg, deps: deps, log: deps.Log, now: deps.Now, http: deps.HTTP}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.http == nil {
		p.http = &http.Client{Timeout: cfg.Timeout}
	}
	// The SDK's own token cache is off: tokens come from token.Source,
	// which fetches once for many callers and drops a token Feishu
	// refused (the SDK's cache retries with the refused one).
	p.client = lark.NewClient(cfg.AppID, cfg.AppSecret.Reveal(),
		lark.WithOpenBaseUrl(cfg.BaseURL), lark.WithHttpClient(p.http), lark.WithReqTimeout(cfg.Timeout),
		lark.WithEnableTokenCache(false), lark.WithLogger(sdkLogger{p.log}))
	p.tokens = token.New(p.fetchToken, token.Options{Now: p.now})
	p.disp = p.dispatcher()
	robots, err := config.ParseRobots(cfg.Robots)
	if err != nil {
		return nil, fmt.Errorf("feishu: robots: %w", err)
	}
	p.robots = map[string]*Robot{}
	for _, r := range robots {
		p.robots[r.Name] = &Robot{p: p, name: r.Name, url: r.URL, secret: r.SignSecret}
	}
	return p, nil
}

// Name returns "feishu".
func (p *Platform) Name() string { return Name }

// TokenFetches says how many times a tenant access token was fetched.
func (p *Platform) TokenFetches() int { return p.tokens.Fetches() }

// Close waits for the answers to messages still being sent.
func (p *Platform) Close() error {
	p.replyMu.Lock()
	p.closed = true
	p.replyMu.Unlock()
	p.replies.Wait()
	return nil
}

// sdkLogger hands the SDK's log lines to slog. Its debug lines carry
// whole requests, so they are dropped.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Debug(context.Context, ...any) {}

func (l sdkLogger) Info(ctx context.Context, args ...any) {
	l.log.DebugContext(ctx, "feishu sdk", "msg", fmt.Sprint(args...))
}

func (l sdkLogger) Warn(ctx context.Context, args ...any) {
	l.log.WarnContext(ctx, "feishu sdk", "msg", fmt.Sprint(args...))
}

func (l sdkLogger) Error(ctx context.Context, args ...any) {
	l.log.WarnContext(ctx, "feishu sdk", "msg", fmt.Sprint(args...))
}

// Run keeps the long connection to Feishu open in stream mode, taking
// clicks and messages through it, until ctx ends. In webhook mode it
// returns at once: callbacks come to Handler.
func (p *Platform) Run(ctx context.Context) error {
	if p.cfg.Mode != config.ModeStream {
		return nil
	}
	return p.runStream(ctx)
}
