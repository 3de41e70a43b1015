package console_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/internal/testclock"
	"cardflow/queue"
	"cardflow/server/console"
)

const (
	password   = "correct horse battery"
	adminToken = "admin-token-0123456789abcdef"
)

// bundle is one test's console on the example world.
type bundle struct {
	t      *testing.T
	url    string
	engine *flows.Engine
	store  flows.Store
	queue  queue.Queue
	clock  *testclock.Clock
}

func setup(t *testing.T) *bundle { return setupWith(t, func(*console.Config) {}) }

// setupWith is setup with the console's configuration changed by edit.
func setupWith(t *testing.T, edit func(*console.Config)) *bundle { return build(t, edit, time.Time{}) }

// setupAt is setup with the engine and the console on one clock set to
// start, which only the test moves.
func setupAt(t *testing.T, start time.Time) *bundle { return build(t, func(*console.Config) {}, start) }

// retentions are what the test console says is kept.
var retentions = []console.Retention{
	{Table: "outbox", Key: "outbox.retention", For: 7 * 24 * time.Hour, What: "已发出的通知消息", WhatEn: "sent notification messages"},
	{Table: "instances", Key: "store.instance_retention", For: 36 * time.Hour, What: "已结束的流程实例", WhatEn: "finished instances"},
	{What: "订单、库存变动和 KPI 数据", WhatEn: "orders, stock movements and KPI figures"},
}

// build is setupWith on the engine's own clock when start is zero, else
// with the engine on the test's clock from start.
func build(t *testing.T, edit func(*console.Config), start time.Time) *bundle {
	t.Helper()
	clk := testclock.New(time.Now())
	var opts []flows.Option
	if !start.IsZero() {
		clk.Set(start)
		opts = append(opts, flows.WithClock(clk.Now))
	}
	store, engine := exampletest.World(t, opts...)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	q := queue.NewMemory(queue.MemoryOptions{})
	t.Cleanup(func() { require.NoError(t, q.Close()) })
	sends := bot.NewSends(nil)
	cfg := console.Config{
		Users:         []config.ConsoleUser{{Name: "ops", PasswordHash: config.Secret(hash), ActsAs: "u_shen"}},
		AdminTokens:   []config.Secret{adminToken},
		AdminActsAs:   "u_shen",
		SessionSecret: []byte("a-session-secret-of-32-bytes-at-least"),
		SessionTTL:    time.Hour,
	}
	edit(&cfg)
	c, err := console.New(cfg, console.Deps{Engine: engine, Store: store, Cards: store, Queue: q, Topics: []string{flows.NotifyTopic},
		Sends: sends.Totals, Retentions: retentions, Now: clk.Now})
	require.NoError(t, err)
	r := chi.NewRouter()
	c.Routes(r)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return &bundle{t: t, url: ts.URL, engine: engine, store: store, queue: q, clock: clk}
}

// visitor is an HTTP client with cookies that does not follow redirects.
type visitor struct {
	b      *bundle
	client *http.Client
}

func (b *bundle) visitor() *visitor {
	jar, err := cookiejar.New(nil)
	require.NoError(b.t, err)
	return &visitor{b: b, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer: status, Location and body.
type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (br *visitor) do(method, path string, form url.Values, header ...string) page {
	t := br.b.t
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, br.b.url+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := br.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw), header: resp.Header}
}

func (br *visitor) get(path string) page { return br.do(http.MethodGet, path, nil) }

func (br *visitor) post(path string, form url.Values) page { return br.do(http.MethodPost, path, form) }

// login logs in as ops and returns the CSRF token of the dashboard.
func (br *visitor) login() string {
	br.b.t.Helper()
	p := br.post("/console/login", url.Values{"name": {"ops"}, "password": {password}})
	require.Equal(br.b.t, http.StatusSeeOther, p.status, p.body)
	require.Equal(br.b.t, "/console/", p.location)
	return br.csrf("/console/")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page's form.
func (br *visitor) csrf(path string) string {
	br.b.t.Helper()
	p := br.get(path)
	require.Equal(br.b.t, http.StatusOK, p.status, p.body)
	m := csrfField.FindStringSubmatch(p.body)
	require.NotNil(br.b.t, m, "a form with a CSRF token on %s", path)
	return m[1]
}

// deadLetter publishes a message with id on topic and has a consumer fail
// it for good, so it lands in q's dead letters.
func deadLetter(t *testing.T, q queue.Queue, topic, id string, payload string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	failed := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, topic, func(context.Context, queue.Message) error {
			failed <- struct{}{}
			return queue.Permanent(errors.New("飞书: user not found"))
		}, queue.ConsumeOptions{Concurrency: 1})
	}()
	require.NoError(t, q.Publish(t.Context(), topic, queue.Message{ID: id, Key: "inst-1", Payload: []byte(payload)}))
	<-failed
	cancel()
	require.NoError(t, <-done, "the consumer stops once its handler is done, dead letter recorded")
}

// startOrder files an order of amount as 陈 and returns the instance id.
func (b *bundle) startOrder(amount string) string {
	b.t.Helper()
	res, err := b.engine.Start(b.t.Context(), flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment",
		Form: map[string]any{"order_no": "TM-1001", "platform": "tmall", "amount": amount,
			"items": []any{map[string]any{"sku": "SKU-1", "qty": 2, "price": "3400.00"}}}})
	require.NoError(b.t, err)
	return res.InstanceID
}

// TestDiscard: a discarded dead letter is gone for good, with a message;
// discarding it again says it is gone.
func TestDiscard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	deadLetter(t, b.queue, flows.NotifyTopic, "i1/v1/task_assigned/u_zhao", `{}`)
	br := b.visitor()
	token := br.login()
	view := br.get("/console/deadletters/view?topic=notify&id=i1%2Fv1%2Ftask_assigned%2Fu_zhao")
	require.Contains(t, view.body, `action="/console/deadletters/discard"`)
	require.Contains(t, view.body, "确认丢弃")
	form := url.Values{"csrf": {token}, "topic": {"notify"}, "id": {"i1/v1/task_assigned/u_zhao"}}
	tests := []struct {
		name  string
		flash string
	}{
		{name: "discard", flash: `<p class="flash flash-ok" role="status">已丢弃</p>`},
		{name: "again", flash: `<p class="flash flash-error" role="status">这条死信已不存在（可能已被重新投递或丢弃）</p>`},
	}
	for _, tt := range tests {
		p := br.post("/console/deadletters/discard", form)
		require.Equal(t, http.StatusSeeOther, p.status, tt.name)
		require.Equal(t, "/console/deadletters", p.location, tt.name)
		p = br.get("/console/deadletters")
		require.Contains(t, p.body, tt.flash, tt.name)
		require.Contains(t, p.body, `id="no-deadletters"`, tt.name)
	}
	dls, err := b.queue.DeadLetters(t.Context(), flows.NotifyTopic, 10)
	require.NoError(t, err)
	require.Empty(t, dls)
	require.Zero(t, must(b.queue.Depth(t.Context(), flows.NotifyTopic)), "discarding delivers nothing")

	p := br.post("/console/deadletters/discard", url.Values{"topic": {"notify"}, "id": {"x"}})
	require.Equal(t, http.StatusForbidden, p.status, "no CSRF token")
	p = br.post("/console/deadletters/discard", url.Values{"csrf": {token}, "topic": {"nope"}, "id": {"x"}})
	require.Equal(t, http.StatusNotFound, p.status, "a topic without dead letters")
}

// TestRetentionPage: what is kept and for how long, in the reader's
// language, with 0 as kept for ever.
func TestRetentionPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	br.login()
	tests := []struct {
		name string
		lang string
		want []string
	}{
		{name: "zh", lang: "zh-CN", want: []string{`<tr data-table="outbox">`, "已发出的通知消息", `data-k="for">7天</td>`,
			`data-k="for">1天12小时</td>`, `data-k="for">永久保留</td>`, "<code>store.instance_retention</code>"}},
		{name: "en", lang: "en", want: []string{"sent notification messages", `data-k="for">7d</td>`, `data-k="for">1d 12h</td>`,
			`data-k="for">Kept for ever</td>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := br.do(http.MethodGet, "/console/retention", nil, "Cookie", "cf_console_lang="+tt.lang)
			require.Equal(t, http.StatusOK, p.status, p.body)
			for _, w := range tt.want {
				require.Contains(t, p.body, w)
			}
		})
	}
}

// TestDashboardOverdue: the dashboard counts the open tasks past their due
// time and lists them, the longest overdue first.
func TestDashboardOverdue(t *testing.T) {
	t.Parallel()
	b := setupAt(t, analyticsStart)
	first := b.startOrder("6800.00")
	b.clock.Advance(2 * time.Hour)
	b.startOrder("3000.00")
	b.clock.Advance(90 * time.Minute) // the first order's finance tasks are 90m past their 2h SLA, the second's not yet due
	br := b.visitor()
	br.login()
	p := br.get("/console/")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `<p class="big" id="overdue">3</p>`, "3 finance signers' tasks of the first order")
	require.Equal(t, 3, strings.Count(p.body, `<li><a href="/console/instances/`+first+`">`))
	require.Contains(t, p.body, `<span class="overdue">2026-11-02 11:00</span>`)
	require.Contains(t, p.body, "订单履约 · TM-1001</a> · 财务确认 · 钱多多 (u_qian) · ", "the instance's title, the step's name and the assignee's, not their ids")
}
