package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/bot"
	"cardflow/bot/feishu/feishutest"
	"cardflow/config"
	"cardflow/internal/benchtest"
	redisq "cardflow/storage/redis"
)

// BenchmarkFeishuClick: b.N approvals as signed, encrypted Feishu card
// clicks over HTTP (/callbacks/feishu: signature, decryption, the event's
// dedupe, the engine's committed decision, the answer card), next to b.N
// approvals through /api/v1 in the same run, on the same server (PostgreSQL
// and Redis), each by 64 clients at once. Each approval is 钱多多's on a
// fresh ¥500 order; the deliveries each decision causes run meanwhile, as
// they would. Latency is from sending the request to reading the answer.
//
//	go test ./app -run '^$' -bench FeishuClick -benchtime 2000x -count 3
//
// CARDFLOW_BENCH_PACE=N offers N clicks (and then N decisions) a second
// instead, still from at most 64 clients at once, each timed from when it
// was due (benchtest.Paced): the latency at that load rather than at
// saturation, where 64 clients that each wait for their answer measure
// the queue they make themselves (at 1,000/s, 64 ms on average).
func BenchmarkFeishuClick(b *testing.B) {
	c, _ := startFeishuChat(b, config.ModeWebhook)
	clicks := ordersForQian(b, c, b.N)
	api := ordersForQian(b, c, b.N)
	c.settle(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClickers}}

	// Requests are built (encrypted, signed) before the clock starts: the
	// sender's work is Feishu's, not cardflow's.
	reqs := make([]*http.Request, b.N)
	for i, t := range clicks {
		payload := bot.Payload{TaskID: t.task, Version: t.version}.String()
		reqs[i] = feishutest.ClickRequest(c.base+"/callbacks/feishu", feishutest.DefaultKeys,
			feishutest.Click{OpenID: "ou_qian0003", Value: map[string]any{"a": "approve", "p": payload}})
	}
	pace := benchtest.Pace(b)
	b.ResetTimer()
	feishuLat, feishuTook := clickers(b, pace, func(i int) error {
		resp, err := client.Do(reqs[i])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var answer struct {
			Toast struct {
				Type string `json:"type"`
			} `json:"toast"`
		}
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, &answer); err != nil || resp.StatusCode != http.StatusOK || answer.Toast.Type != "success" {
			return fmt.Errorf("click %s: %d %s", clicks[i].task, resp.StatusCode, raw)
		}
		return nil
	})
	apiLat, apiTook := clickers(b, pace, func(i int) error {
		status, err := c.send(b.Context(), http.MethodPost, "/api/v1/tasks/"+api[i].task+"/decision",
			map[string]any{"actor": "u_qian", "action": "approve"}, nil)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("decision %s: %d", api[i].task, status)
		}
		return err
	})
	b.StopTimer()

	b.ReportMetric(float64(b.N)/feishuTook.Seconds(), "clicks/s")
	b.ReportMetric(float64(b.N)/apiTook.Seconds(), "api/s")
	benchtest.ReportLatency(b, "click", feishuLat)
	benchtest.ReportLatency(b, "api", apiLat)
}

// settle waits until every notification committed so far has been handled
// once: relayed from the outbox, then read from the queue's stream and
// settled there, sent or put off until its place in a rate limit's line.
// A put-off message comes back to the stream as a new entry when its turn
// is due, and with the setup's 6N cards far beyond Feishu's 1,000 a
// minute such entries keep arriving for minutes: so the wait is for the
// entries up to the last one relayed (the stream's last id once the outbox
// is empty) to be settled, not for an empty stream. The queue deletes an
// entry when it settles it (sent, put off, dead-lettered, handed back), so
// those still on the stream are the ones not settled yet.
func (c *chatServer) settle(b *testing.B) {
	b.Helper()
	conn, err := pgx.Connect(b.Context(), c.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(b.Context()))
	client, err := redisq.NewClient(c.redisURL)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	// The Redis queue keeps a topic's waiting and in-flight messages in
	// this stream (storage/redis, keys).
	stream := c.prefix + "{notify}:stream"
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(5 * time.Minute)
	wait := func(what string, done func() bool) {
		for !done() {
			if time.Now().After(deadline) {
				b.Fatalf("the setup's notifications were not handled in 5 minutes: %s", what)
			}
			<-tick.C
		}
	}
	var unsent int64
	wait("outbox rows still unsent", func() bool {
		if err := conn.QueryRow(b.Context(), `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent); err != nil {
			b.Fatal(err)
		}
		return unsent == 0
	})
	info, err := client.XInfoStream(b.Context(), stream).Result()
	if err != nil {
		b.Fatal(err)
	}
	last := info.LastGeneratedID
	wait("entries relayed by then not yet delivered or settled", func() bool {
		left, err := client.XRangeN(b.Context(), stream, "-", last, 1).Result()
		if err != nil {
			b.Fatal(err)
		}
		return len(left) == 0
	})
}

// clickers runs do for 0…b.N-1 from benchClickers clients, as fast as they
// are answered or, with pace > 0, pace calls a second; it returns each
// call's latency and how long they all took.
func clickers(b *testing.B, pace float64, do func(i int) error) ([]time.Duration, time.Duration) {
	if pace > 0 {
		return benchtest.Paced(b, benchClickers, b.N, pace, do)
	}
	start := time.Now()
	lat := benchtest.Clients(b, benchClickers, b.N, do)
	return lat, time.Since(start)
}

// qianTask is a finance task of 钱多多's and the instance version its card
// shows.
type qianTask struct {
	task    string
	version int64
}

// ordersForQian starts n orders through the API and returns 钱多多's task
// of each.
func ordersForQian(b *testing.B, c *chatServer, n int) []qianTask {
	b.Helper()
	list, err := c.startOrders(b.Context(), n)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]qianTask, 0, n)
	for _, o := range list {
		for _, t := range o.Instance.Tasks {
			if t.Assignee == "u_qian" {
				out = append(out, qianTask{task: t.ID, version: o.Instance.Version})
			}
		}
	}
	if len(out) != n {
		b.Fatalf("%d of %d orders have a task of 钱多多's", len(out), n)
	}
	return out
}
