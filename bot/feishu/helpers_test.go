package feishu_test

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/storage/sqlite"
)

// bundle is one test's world: the example org and flows on a fresh store,
// the real inbound actions, the fake Feishu, and the platform pointed at
// it with its callback handler served.
type bundle struct {
	t      testing.TB
	fake   *feishutest.Server
	p      *feishu.Platform
	store  *sqlite.Store
	engine *flows.Engine
	srv    *httptest.Server
	log    *bottest.Log

	mu  sync.Mutex
	now time.Time
}

func (b *bundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

// fakeConfig returns a Feishu section pointed at the fake.
func fakeConfig(fake *feishutest.Server) config.FeishuConfig { return keysConfig(fake.Keys, fake.URL) }

// keysConfig returns a Feishu section with keys, pointed at base.
func keysConfig(k feishutest.Keys, base string) config.FeishuConfig {
	return config.FeishuConfig{Enabled: true, AppID: k.AppID, AppSecret: config.Secret(k.AppSecret),
		VerificationToken: config.Secret(k.VerificationToken), EncryptKey: config.Secret(k.EncryptKey),
		Mode: config.ModeWebhook, BaseURL: base, Timeout: 5 * time.Second}
}

func setup(t testing.TB, edit ...func(*config.FeishuConfig, *feishu.Deps)) *bundle {
	t.Helper()
	b := &bundle{t: t, fake: feishutest.New(t), log: bottest.NewLog(), now: time.Now()}
	b.store, b.engine = exampletest.World(t)
	render := bot.NewCardRenderer(b.engine, b.engine, bot.RendererOptions{ConsoleURL: "https://oa.example.com"})
	router := bot.NewRouter()
	bot.RegisterCommands(router, b.engine, render)
	inbound := bot.NewActions(bot.ActionsDeps{Engine: b.engine, Directory: b.engine, Render: render, Router: router, Logger: b.log.Logger})
	cfg := fakeConfig(b.fake)
	deps := feishu.Deps{Inbound: inbound, Store: b.store, Directory: b.engine, Log: b.log.Logger, Now: b.clock}
	for _, e := range edit {
		e(&cfg, &deps)
	}
	p, err := feishu.New(cfg, deps)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	b.p = p
	b.srv = httptest.NewServer(p.Handler())
	t.Cleanup(b.srv.Close)
	return b
}

// order starts an order_fulfilment instance filed by u_chen and returns
// its id.
func (b *bundle) order(no string) string {
	b.t.Helper()
	ctx := b.t.Context()
	res, err := b.engine.Start(ctx, flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
		"order_no": no, "platform": "tmall", "amount": "6800.00", "cost": "4200.00", "buyer_note": "周末也可以送货",
		"items": []any{map[string]any{"sku": "SKU-1", "qty": 2, "price": "3400.00"}},
	}})
	require.NoError(b.t, err)
	return res.InstanceID
}

// task returns user's latest task of an instance.
func (b *bundle) task(inst, user string) flows.Task {
	b.t.Helper()
	tasks, err := b.store.Tasks(b.t.Context(), flows.TaskFilter{InstanceID: inst, Assignee: user})
	require.NoError(b.t, err)
	require.NotEmpty(b.t, tasks, "%s has no task of %s", user, inst)
	return tasks[len(tasks)-1]
}

// audit counts an instance's audit entries: a refused or repeated click
// adds none.
func (b *bundle) audit(inst string) int {
	b.t.Helper()
	a, err := b.store.Audit(b.t.Context(), inst)
	require.NoError(b.t, err)
	return len(a)
}

// sendTask sends user's task card through the platform and returns the
// message on the fake.
func (b *bundle) sendTask(user, task string) feishutest.Message {
	b.t.Helper()
	u, err := b.engine.User(b.t.Context(), user)
	require.NoError(b.t, err)
	sent, err := b.p.Send(b.t.Context(), bot.ReaderFor(u, feishu.Name), b.taskCard(user, task))
	require.NoError(b.t, err)
	m, ok := b.fake.Message(sent.MessageID)
	require.True(b.t, ok)
	return m
}

// taskCard is the card of a task for a reader.
func (b *bundle) taskCard(user, task string) bot.Card {
	b.t.Helper()
	render := bot.NewCardRenderer(b.engine, b.engine, bot.RendererOptions{})
	u, err := b.engine.User(b.t.Context(), user)
	require.NoError(b.t, err)
	c, err := render.TaskCard(b.t.Context(), bot.ReaderFor(u, feishu.Name), task, nil)
	require.NoError(b.t, err)
	return c
}

// qianApproves starts order no and sends 钱多多 her finance task's card;
// it returns the instance, the card's message and its 同意 button's value.
func (b *bundle) qianApproves(no string) (string, feishutest.Message, map[string]any) {
	b.t.Helper()
	inst := b.order(no)
	m := b.sendTask("u_qian", b.task(inst, "u_qian").ID)
	value, err := feishutest.ButtonValue(m.Card, "同意")
	require.NoError(b.t, err)
	return inst, m, value
}
