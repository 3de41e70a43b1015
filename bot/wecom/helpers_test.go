package wecom_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/wecom"
	"cardflow/bot/wecom/wecomtest"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/storage/sqlite"
)

// patience bounds every wait for a signal.
const patience = 10 * time.Second

// directory is the org directory of the tests: 钱多多 (QianDuoduo) and
// Ada (Ada, reads English).
type directory map[string]flows.User

func newDirectory() directory {
	return directory{
		"qian": {ID: "qian", Name: "钱多多", PlatformIDs: map[string]string{wecom.Name: "QianDuoduo"}},
		"ada":  {ID: "ada", Name: "Ada", Locale: "en", PlatformIDs: map[string]string{wecom.Name: "Ada"}},
	}
}

func (d directory) User(_ context.Context, id string) (flows.User, error) {
	if u, ok := d[id]; ok {
		return u, nil
	}
	return flows.User{}, flows.ErrNotFound
}

func (d directory) UserByPlatformID(_ context.Context, platform, pid string) (flows.User, error) {
	for _, u := range d {
		if u.PlatformIDs[platform] == pid {
			return u, nil
		}
	}
	return flows.User{}, flows.ErrNotFound
}

// inbound records what the platform hands over and answers as told.
type inbound struct {
	mu       sync.Mutex
	clicks   []bot.Click
	messages []bot.Message
	reply    bot.ClickReply
	cards    []bot.Card
	// onClick runs at each click, before it is answered.
	onClick func(bot.Click)
}

func (in *inbound) Click(_ context.Context, c bot.Click) (bot.ClickReply, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.clicks = append(in.clicks, c)
	if in.onClick != nil {
		in.onClick(c)
	}
	return in.reply, nil
}

func (in *inbound) Message(_ context.Context, m bot.Message) ([]bot.Card, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.messages = append(in.messages, m)
	return in.cards, nil
}

func (in *inbound) got() ([]bot.Click, []bot.Message) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]bot.Click(nil), in.clicks...), append([]bot.Message(nil), in.messages...)
}

// bundle is a platform on the fake with what it works with.
type bundle struct {
	p       *wecom.Platform
	fake    *wecomtest.Server
	in      *inbound
	store   bot.Store
	log     *bottest.Log
	cfg     config.WeComConfig
	limiter bot.Limiter
}

// fakeConfig is the config of an app on the fake.
func fakeConfig(f *wecomtest.Server) config.WeComConfig {
	return config.WeComConfig{Enabled: true, CorpID: wecomtest.CorpID, AgentID: wecomtest.AgentID,
		Secret: wecomtest.Secret, Token: wecomtest.Token, EncodingAESKey: wecomtest.EncodingAESKey,
		BotToken: wecomtest.BotToken, BotEncodingAESKey: wecomtest.BotEncodingAESKey,
		BaseURL: f.URL, Timeout: 5 * time.Second,
		Robots: []config.Secret{config.Secret("alerts=" + f.URL + "/cgi-bin/webhook/send?key=robot-key-0123456789")}}
}

func setup(t testing.TB, edit func(*config.WeComConfig)) *bundle {
	t.Helper()
	fake := wecomtest.New(t)
	cfg := fakeConfig(fake)
	if edit != nil {
		edit(&cfg)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	b := &bundle{fake: fake, in: &inbound{reply: bot.ClickReply{Toast: bot.Toast{Kind: bot.ToastSuccess, Text: "已同意"}}},
		store: st, log: bottest.NewLog(), cfg: cfg}
	b.limiter = bot.NewMemoryLimiter(wecom.Limits, nil)
	b.p, err = wecom.New(cfg, wecom.Deps{Inbound: b.in, Store: st, Directory: newDirectory(), Limiter: b.limiter,
		Log: b.log.Logger})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.p.Close() })
	return b
}

// approvalCard is a task card with 同意 (no input) and 拒绝 (needs a
// reason).
func approvalCard(task string) bot.Card {
	return bot.Card{Subject: task, InstanceID: "i1", Version: 1, Status: bot.StatusPending, Title: "订单履约 · TM-1",
		Fields: []bot.Field{{Label: "金额", Value: "¥10.00"}},
		Buttons: []bot.Button{
			{Label: "同意", Style: bot.StylePrimary, Action: flows.ActApprove, Payload: "t:" + task + ":1"},
			{Label: "拒绝", Style: bot.StyleDanger, Action: flows.ActReject, Payload: "t:" + task + ":1", NeedsInput: true},
		}}
}

var qian = bot.Reader{UserID: "qian", PlatformUserID: "QianDuoduo", Name: "钱多多", Locale: bot.LocaleZH}

// sendRecorded sends a card to qian and records it in the store as the
// pipeline does.
func (b *bundle) sendRecorded(t *testing.T, c bot.Card) bot.CardMessage {
	t.Helper()
	sent, err := b.p.Send(t.Context(), qian, c)
	require.NoError(t, err)
	now := time.Now()
	m := bot.CardMessage{CardKey: bot.CardKey{Platform: wecom.Name, Recipient: qian.UserID, Subject: c.Subject},
		InstanceID: c.InstanceID, MessageID: sent.MessageID, UpdateToken: sent.UpdateToken, TokenExpires: sent.TokenExpires,
		StateVersion: c.Version, Digest: c.Digest(), SentAt: now, UpdatedAt: now}
	ok, err := b.store.PutCard(t.Context(), m)
	require.NoError(t, err)
	require.True(t, ok)
	return m
}

func (b *bundle) secrets() []string {
	return []string{wecomtest.Secret, wecomtest.EncodingAESKey, wecomtest.BotEncodingAESKey, "robot-key-0123456789",
		"wc-fake-token-1", "wc-fake-token-2", "wc-fake-token-3"}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	t.Cleanup(cancel)
	return ctx
}
