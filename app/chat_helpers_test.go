package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/testenv"
	"cardflow/queue"
	"cardflow/storage/postgres/pgtest"
	redisq "cardflow/storage/redis"
)

// patience bounds every wait for a signal; tests go on as soon as it comes.
const patience = 30 * time.Second

// Tokens of the chat server: the simulator answers the admin token only
// (sim.enabled outside the demo), the API its own.
const (
	chatAdminToken = "chat-admin-token-0123456789"
	chatAPIToken   = "chat-api-token-0123456789"
)

// chatServer is app.Run on PostgreSQL and Redis with the simulator on,
// the example flows and org loaded. Tests act through the simulator's HTTP
// API as a person at the page would, and watch the simulator platform and
// the server's log for deliveries.
type chatServer struct {
	*running
	sim *sim.Platform
	// queue is a client of the server's own queue (same Redis, same key
	// prefix): what an operator would use to list dead letters.
	queue *redisq.Queue
	dsn   string
	// redisURL and prefix are where the server's queue keeps its keys.
	redisURL, prefix string
}

// startChat starts the chat server on a schema and a key prefix of the
// test's own, and stops it (waiting for Run to return) before either is
// dropped. The server logs to watch; nil discards its log (benchmarks).
func startChat(t testing.TB, watch *logWatch) *chatServer {
	t.Helper()
	return startChatWith(t, watch, nil)
}

// startChatWith is startChat with the configuration changed by edit first
// (a real platform turned on against its fake, the simulator off).
func startChatWith(t testing.TB, watch *logWatch, edit func(cfg *config.Config)) *chatServer {
	t.Helper()
	return startChatRun(t, watch, edit, app.RunOptions{})
}

// startChatRun is startChatWith with run options (an SLA scale).
func startChatRun(t testing.TB, watch *logWatch, edit func(cfg *config.Config), opts app.RunOptions) *chatServer {
	t.Helper()
	dsn := pgtest.SchemaDSN(t)
	redisURL := testenv.RedisURL(t)
	prefix := "cardflow-test:" + queue.NewID()[:12] + ":"
	t.Cleanup(func() { deleteRedisKeys(t, redisURL, prefix) })

	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Flows.OrgFile = "../configs/org.example.yaml"
	cfg.Store.DSN = config.DSN(dsn)
	cfg.Queue.RedisURL = config.DSN(redisURL)
	cfg.Queue.KeyPrefix = prefix
	cfg.Sim.Enabled = true
	cfg.Server.AdminTokens = []config.Secret{chatAdminToken}
	cfg.Server.APITokens = []config.Secret{chatAPIToken}
	cfg.Server.ShutdownTimeout = 5 * time.Second
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())

	log := slog.New(slog.DiscardHandler)
	if watch != nil {
		log = slog.New(watch)
	}
	opts.Logger = log
	r := startWith(t, cfg, opts)
	t.Cleanup(func() {
		r.stop()
		select {
		case <-r.done:
		case <-time.After(patience):
			t.Error("app.Run did not return after cancel")
		}
	})
	p, ok := r.ready.Platforms[sim.Name].(*sim.Platform)
	require.Equal(t, cfg.Sim.Enabled, ok, "the simulator is among the platforms when on: %v", r.ready.Platforms)
	q, err := redisq.Open(redisURL, redisq.QueueOptions{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	return &chatServer{running: r, sim: p, queue: q, dsn: dsn, redisURL: redisURL, prefix: prefix}
}

// deleteRedisKeys removes every key under prefix.
func deleteRedisKeys(t testing.TB, redisURL, prefix string) {
	client, err := redisq.NewClient(redisURL)
	require.NoError(t, err)
	defer client.Close()
	ctx := context.WithoutCancel(t.Context())
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		require.NoError(t, client.Unlink(ctx, iter.Val()).Err())
	}
	require.NoError(t, iter.Err())
}

// client keeps a connection per concurrent caller, as a load balancer
// would (net/http's default keeps two per host).
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

// send sends a JSON body (nil for none) with the token the route wants and
// decodes a JSON answer into out (unless nil); it returns the status. It
// is safe in any goroutine: it reports errors instead of failing a test.
func (c *chatServer) send(ctx context.Context, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(path, sim.DefaultPath+"/") {
		req.SetBasicAuth("admin", chatAdminToken)
	} else {
		req.Header.Set("Authorization", "Bearer "+chatAPIToken)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s: %w", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// do is send in the test's goroutine, failing the test on an error.
func (c *chatServer) do(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	status, err := c.send(t.Context(), method, path, body, out)
	require.NoError(t, err)
	return status
}

// order is the form of an order of amount yuan, on one line.
func order(no, amount string) map[string]any {
	return map[string]any{"order_no": no, "platform": "tmall", "amount": amount,
		"items": []any{map[string]any{"sku": "SKU-1", "qty": "1", "price": amount}}}
}

// startOrder files an order as chen at the simulator's start form and
// returns the instance and the finance tasks it opened.
func (c *chatServer) startOrder(t testing.TB, no, amount string) (string, []string) {
	t.Helper()
	var res struct {
		Result flows.Result `json:"result"`
	}
	status := c.do(t, http.MethodPost, "/sim/api/start",
		map[string]any{"user": "chen", "flow_id": "order_fulfilment", "form": order(no, amount)}, &res)
	require.Equal(t, http.StatusCreated, status)
	require.Len(t, res.Result.Opened, 3, "one 或签 task per finance user")
	return res.Result.InstanceID, res.Result.Opened
}

// inbox is what a person's conversation with the bot shows on the page.
func (c *chatServer) inbox(t testing.TB, simID string) []sim.Message {
	t.Helper()
	var in struct {
		Messages []sim.Message `json:"messages"`
	}
	require.Equal(t, http.StatusOK, c.do(t, http.MethodGet, "/sim/api/inbox?user="+simID, nil, &in))
	return in.Messages
}

// inboxes is what each of users' conversations shows, by sim id.
func (c *chatServer) inboxes(t testing.TB, users []string) map[string][]sim.Message {
	t.Helper()
	out := map[string][]sim.Message{}
	for _, u := range users {
		out[u] = c.inbox(t, u)
	}
	return out
}

// waitCard waits until simID's inbox shows a card for which ok holds, and
// returns its message.
func (c *chatServer) waitCard(t testing.TB, simID string, ok func(bot.Card) bool) sim.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	var found sim.Message
	err := c.sim.Wait(ctx, func() bool {
		for _, m := range c.inbox(t, simID) {
			if m.Card != nil && ok(*m.Card) {
				found = m
				return true
			}
		}
		return false
	})
	require.NoError(t, err, "%s never saw the awaited card; inbox: %+v", simID, c.inbox(t, simID))
	return found
}

// about holds for a card about one of subjects for which ok holds.
func about(subjects []string, ok func(bot.Card) bool) func(bot.Card) bool {
	return func(c bot.Card) bool { return slices.Contains(subjects, c.Subject) && ok(c) }
}

// clickReply is the answer of POST /sim/api/click.
type clickReply struct {
	Reply   bot.ClickReply `json:"reply"`
	Message *sim.Message   `json:"message"`
}

// click presses a button of a card message as simID.
func (c *chatServer) click(t testing.TB, simID string, m sim.Message, b bot.Button, values map[string]string) clickReply {
	t.Helper()
	var out clickReply
	status := c.do(t, http.MethodPost, "/sim/api/click", map[string]any{"user": simID, "message_id": m.ID,
		"payload": b.Payload, "action": b.Action, "values": values}, &out)
	require.Equal(t, http.StatusOK, status)
	return out
}

// button returns the card's button for action.
func button(t testing.TB, c *bot.Card, action flows.ActionKind) bot.Button {
	t.Helper()
	require.NotNil(t, c)
	i := slices.IndexFunc(c.Buttons, func(b bot.Button) bool { return b.Action == action })
	require.GreaterOrEqual(t, i, 0, "no %s button on %+v", action, c)
	return c.Buttons[i]
}

// outboxRow is a committed notification as the relay publishes it.
type outboxRow struct {
	key     string
	payload []byte
}

// outboxOf reads the notifications committed for an instance, in commit
// order, sent or not (the store keeps them as the history of what was
// notified).
func (c *chatServer) outboxOf(t testing.TB, instanceID string) []outboxRow {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.dsn)
	require.NoError(t, err)
	defer conn.Close(context.WithoutCancel(t.Context()))
	// A row holds a commit's messages: keys and a JSON array of payloads
	// in the same order (storage/postgres/outbox.go).
	rows, _ := conn.Query(t.Context(), `
		SELECT m.key, m.payload FROM outbox o,
			ROWS FROM (unnest(o.keys), json_array_elements(o.payload)) WITH ORDINALITY AS m(key, payload, i)
		WHERE o.instance_id = $1 ORDER BY o.seq, m.i`, instanceID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (outboxRow, error) {
		var r outboxRow
		return r, row.Scan(&r.key, &r.payload)
	})
	require.NoError(t, err)
	return out
}

// keyFor returns the key (the queue message id) of the one notification of
// the instance's first commit to user.
func (c *chatServer) keyFor(t testing.TB, instanceID, user string) string {
	t.Helper()
	var keys []string
	for _, row := range c.outboxOf(t, instanceID) {
		if strings.HasPrefix(row.key, instanceID+"/v1/") && strings.Contains(row.key, "/"+user+"/") {
			keys = append(keys, row.key)
		}
	}
	require.Len(t, keys, 1, "notifications of %s to %s", instanceID, user)
	return keys[0]
}

// logWatch is a slog handler that keeps every record the server logs, so a
// test can wait for one: the notify consumer logs how each delivery ended,
// the signal that a message went through the pipeline whatever it did.
type logWatch struct {
	mu      sync.Mutex
	records []logged
	changed chan struct{}
}

type logged struct {
	msg   string
	attrs map[string]string
}

func newLogWatch() *logWatch { return &logWatch{changed: make(chan struct{})} }

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *logWatch) WithGroup(string) slog.Handler            { return w }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	l := logged{msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.String()
		return true
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.records = append(w.records, l)
	close(w.changed)
	w.changed = make(chan struct{})
	return nil
}

// await waits until, for every id, a record with message msg and that id
// was logged, and returns those records by id.
func (w *logWatch) await(t testing.TB, msg string, ids ...string) map[string]logged {
	t.Helper()
	timeout := time.After(patience)
	for {
		w.mu.Lock()
		found := map[string]logged{}
		for _, r := range w.records {
			if r.msg == msg && slices.Contains(ids, r.attrs["id"]) {
				found[r.attrs["id"]] = r
			}
		}
		changed := w.changed
		w.mu.Unlock()
		if len(found) == len(ids) {
			return found
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("after %s, %q was logged for %d of %d ids: %v", patience, msg, len(found), len(ids), ids)
		}
	}
}
