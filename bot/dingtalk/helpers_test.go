package dingtalk_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/dingtalk"
	"cardflow/bot/dingtalk/dingtalktest"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/storage/sqlite"
)

// Credentials of the tests' app; the secrets are long enough for
// bottest.AssertNoLeak.
const (
	clientID     = "dingtestappkey"
	clientSecret = "dt-app-secret-0123456789abcdef"
	robotCode    = "dingtestappkey"
	templateID   = "cardflow-test.schema"
	robotToken   = "robot-access-token-0123456789"
	robotSecret  = "SECrobot0123456789abcdef"
	// The event subscription's token and aes_key (webhook mode).
	eventToken  = "dt-event-token-0123"
	eventAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)

// patience bounds every wait for a signal.
const patience = 10 * time.Second

// world is a platform on the fake, with the example org and flows on an
// embedded store and bot's real Actions as Inbound.
type world struct {
	fake     *dingtalktest.Server
	platform *dingtalk.Platform
	store    *sqlite.Store
	engine   *flows.Engine
	log      *bottest.Log
	render   *bot.CardRenderer
}

type worldOptions struct {
	mode    string
	limiter bot.Limiter
	inbound bot.Inbound
	now     func() time.Time
	stream  dingtalk.StreamOptions
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	fake := dingtalktest.New(t, dingtalktest.Options{ClientID: clientID, ClientSecret: clientSecret, RobotCode: robotCode,
		Robots: map[string]string{robotToken: robotSecret}, AckTimeout: 2 * time.Second, Now: o.now})
	store, engine := exampletest.World(t)
	render := bot.NewCardRenderer(engine, engine, bot.RendererOptions{})
	router := bot.NewRouter()
	bot.RegisterCommands(router, engine, render)
	inbound := o.inbound
	if inbound == nil {
		inbound = bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: engine, Render: render, Router: router})
	}
	if o.mode == "" {
		o.mode = config.ModeStream
	}
	if o.stream.MinBackoff == 0 {
		o.stream.MinBackoff = 10 * time.Millisecond
	}
	log := bottest.NewLog()
	cfg := config.DingTalkConfig{Enabled: true, ClientID: clientID, ClientSecret: clientSecret, RobotCode: robotCode,
		CardTemplateID: templateID, Mode: o.mode, BaseURL: fake.URL, Timeout: 5 * time.Second,
		Token: eventToken, AESKey: eventAESKey,
		Robots: []config.Secret{config.Secret("ops=" + fake.URL + "/robot/send?access_token=" + robotToken + "#" + robotSecret)}}
	p, err := dingtalk.New(cfg, dingtalk.Deps{Inbound: inbound, Store: store, Directory: engine, Limiter: o.limiter,
		Log: log.Logger, Now: o.now, Stream: o.stream})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return &world{fake: fake, platform: p, store: store, engine: engine, log: log, render: render}
}

// run starts the stream loop and waits for its connection; it stops when
// the test ends.
func (w *world) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.platform.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(patience):
			t.Error("Run did not return after cancel")
		}
	})
	w.waitFor(t, "the stream connection", func() bool { return w.fake.Connections() >= 1 })
}

func (w *world) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	require.NoError(t, w.fake.Wait(ctx, cond), "waiting for %s", what)
}

// start files the ¥6,800 order as chen and returns the instance and its
// finance tasks.
func (w *world) start(t *testing.T, no string) (string, []string) {
	t.Helper()
	res, err := w.engine.Start(t.Context(), flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
		"order_no": no, "platform": "tmall", "amount": "6800.00",
		"items": []any{map[string]any{"sku": "SKU-1", "qty": 1, "price": "6800.00"}}}})
	require.NoError(t, err)
	return res.InstanceID, res.Opened
}

// sendTask sends the card of a task to its assignee (platform id dtID)
// and returns the card's outTrackId.
func (w *world) sendTask(t *testing.T, userID, dtID, taskID string) string {
	t.Helper()
	u, err := w.engine.User(t.Context(), userID)
	require.NoError(t, err)
	r := bot.ReaderFor(u, dingtalk.Name)
	require.Equal(t, dtID, r.PlatformUserID)
	c, err := w.render.TaskCard(t.Context(), r, taskID, nil)
	require.NoError(t, err)
	sent, err := w.platform.Send(t.Context(), r, c)
	require.NoError(t, err)
	return sent.MessageID
}

func reader(dtID string) bot.Reader {
	return bot.Reader{UserID: "u_x", PlatformUserID: dtID, Locale: bot.LocaleZH}
}

func card(subject string) bot.Card {
	return bot.Card{Subject: subject, Version: 1, Status: bot.StatusPending, Title: "订单履约 · TM-1 · ¥1.00",
		Buttons: []bot.Button{{Label: "同意", Style: bot.StylePrimary, Action: flows.ActApprove, Payload: "t:" + subject + ":1"}}}
}

// taskOf returns the task of tasks assigned to userID.
func (w *world) taskOf(t *testing.T, tasks []string, userID string) string {
	t.Helper()
	for _, id := range tasks {
		task, err := w.store.Task(t.Context(), id)
		require.NoError(t, err)
		if task.Assignee == userID {
			return id
		}
	}
	t.Fatalf("no task of %s among %v", userID, tasks)
	return ""
}

// taskStatus is a task's status now.
func (w *world) taskStatus(t *testing.T, id string) flows.TaskStatus {
	t.Helper()
	task, err := w.store.Task(t.Context(), id)
	require.NoError(t, err)
	return task.Status
}
