package sim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/server"
)

// fakeInbound records what the page hands over and answers with the
// functions a test sets.
type fakeInbound struct {
	mu       sync.Mutex
	clicks   []bot.Click
	messages []bot.Message
	onClick  func(bot.Click) (bot.ClickReply, error)
	onMsg    func(bot.Message) ([]bot.Card, error)
}

func (f *fakeInbound) Click(_ context.Context, c bot.Click) (bot.ClickReply, error) {
	f.mu.Lock()
	f.clicks = append(f.clicks, c)
	fn := f.onClick
	f.mu.Unlock()
	if fn == nil {
		return bot.ClickReply{Toast: bot.Toast{Kind: bot.ToastSuccess, Text: "已同意"}}, nil
	}
	return fn(c)
}

func (f *fakeInbound) Message(_ context.Context, m bot.Message) ([]bot.Card, error) {
	f.mu.Lock()
	f.messages = append(f.messages, m)
	fn := f.onMsg
	f.mu.Unlock()
	if fn == nil {
		return []bot.Card{{Subject: "help", Status: bot.StatusInfo, Title: "帮助", Text: "- **/todo** 待办"}}, nil
	}
	return fn(m)
}

func (f *fakeInbound) lastClick() bot.Click {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clicks[len(f.clicks)-1]
}

// testBundle is a simulator wired as the server wires it: the example org
// and flows on a SQLite store, the engine, and the page mounted at /sim in
// the real router.
type testBundle struct {
	sim     *sim.Platform
	engine  *flows.Engine
	inbound *fakeInbound
	url     string // the server's base URL
	org     flows.Org
}

// fixedNow is the simulator's clock in these tests.
var fixedNow = time.Date(2026, 3, 2, 10, 42, 0, 0, time.UTC)

func setup(t *testing.T, cfg sim.Config) *testBundle {
	t.Helper()
	org := exampletest.Org(t)
	store := exampletest.Store(t, org)
	engine := exampletest.Engine(t, store)

	in := &fakeInbound{}
	p, err := sim.New(cfg, sim.Deps{
		Inbound: in, Engine: engine, Store: store,
		Users: func(context.Context) ([]flows.User, error) { return org.Users, nil },
		Now:   func() time.Time { return fixedNow },
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	srv := server.New(config.Default(), server.Deps{Routes: func(r chi.Router) { r.Mount("/sim", p.Handler()) }})
	ts := httptest.NewServer(srv.Router())
	t.Cleanup(ts.Close)
	return &testBundle{sim: p, engine: engine, inbound: in, url: ts.URL, org: org}
}

// reader is a person's reader on the simulator, as the pipeline builds it.
func reader(simID string) bot.Reader {
	return bot.Reader{UserID: "u_" + simID, PlatformUserID: simID, Locale: bot.LocaleZH}
}

// answer is a decoded JSON answer.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a answer) errCode() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (a answer) errMessage() string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// do sends body (JSON text, or "" for none) to path under the server and
// decodes the answer; headers come in name, value pairs.
func (b *testBundle) do(t *testing.T, method, path, body string, headers ...string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.url+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &a.body), string(raw))
	}
	return a
}

// card is a task card as the renderer would build it for qian.
func card(version int64, status bot.Status) bot.Card {
	return bot.Card{
		Subject: "inst1.t0001", InstanceID: "inst1", Version: version, Status: status,
		Title: "订单履约 · TM-1001 · ¥6,800.00", Subtitle: "财务确认 · 陈客服主管提交",
		Fields: []bot.Field{{Label: "订单号", Value: "TM-1001", Short: true}, {Label: "金额", Value: "¥6,800.00", Short: true}},
		Tables: []bot.Table{{Title: "商品明细", Columns: []string{"SKU", "数量"}, Rows: [][]string{{"SKU-1", "2"}}}},
		Buttons: []bot.Button{
			{Label: "同意", Style: bot.StylePrimary, Action: flows.ActApprove, Payload: "t:inst1.t0001:1"},
			{Label: "拒绝", Style: bot.StyleDanger, Action: flows.ActReject, Payload: "t:inst1.t0001:1", NeedsInput: true},
		},
		Inputs: []bot.Input{{Name: bot.InputComment, Label: "理由", Kind: bot.InputText}},
	}
}
