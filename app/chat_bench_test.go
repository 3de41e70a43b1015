package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/flows"
	"cardflow/internal/benchtest"
)

// The chat path end to end on PostgreSQL and Redis, app.Run as `serve`
// runs it with the simulator as its platform; see shared BENCH.md for the
// targets. The machine's load moves the figures: note `uptime` with them.
//
//	go test ./app -run '^$' -bench Chat -benchtime 3000x -count 3

// Concurrency of the benchmarks' clients.
const (
	benchStarters = 16 // order starters: the API's commits
	benchClickers = 64 // people clicking at the simulator
	// benchWarmOrders are started, and their cards delivered, before a
	// delivery benchmark's clock starts.
	benchWarmOrders = 32
)

// sendLog records, per card subject, when the simulator was asked to send
// it and the card: the simulator's failure hook is asked by every Send
// before the card is stored, so it serves as the observer. done is closed
// once want sends were seen.
type sendLog struct {
	mu    sync.Mutex
	at    map[string]time.Time
	cards map[string]bot.Card
	want  int
	done  chan struct{}
}

func watchSends(p *sim.Platform, want int) *sendLog {
	l := &sendLog{at: map[string]time.Time{}, cards: map[string]bot.Card{}, want: want, done: make(chan struct{})}
	p.FailWith(func(c sim.Call) error {
		if c.Op != sim.OpSend {
			return nil
		}
		now := time.Now()
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, seen := l.at[c.Card.Subject]; !seen {
			l.at[c.Card.Subject], l.cards[c.Card.Subject] = now, c.Card
			if len(l.at) == l.want {
				close(l.done)
			}
		}
		return nil
	})
	return l
}

func (l *sendLog) wait(b *testing.B) {
	b.Helper()
	select {
	case <-l.done:
	case <-time.After(5 * time.Minute):
		l.mu.Lock()
		defer l.mu.Unlock()
		b.Fatalf("%d of %d cards were sent", len(l.at), l.want)
	}
}

// started is an order the API started: its instance, when the engine
// committed it, and its tasks with their holders.
type started struct {
	Instance struct {
		ID        string    `json:"id"`
		Version   int64     `json:"version"`
		CreatedAt time.Time `json:"created_at"`
		Tasks     []struct {
			ID       string `json:"id"`
			Assignee string `json:"assignee"`
		} `json:"tasks"`
	} `json:"instance"`
}

// startOrders starts n orders of ¥500 through the API, benchStarters at a
// time, each opening a task card for each of the three finance users.
func (c *chatServer) startOrders(ctx context.Context, n int) ([]started, error) {
	return c.startOrdersPaced(ctx, n, 0)
}

// startOrdersPaced is startOrders that begins one start every interval
// (none when 0), so the commits arrive at a steady rate.
func (c *chatServer) startOrdersPaced(ctx context.Context, n int, interval time.Duration) ([]started, error) {
	out := make([]started, n)
	var g errgroup.Group
	g.SetLimit(benchStarters)
	var tick *time.Ticker
	if interval > 0 {
		tick = time.NewTicker(interval)
		defer tick.Stop()
	}
	for i := range out {
		if tick != nil {
			<-tick.C
		}
		g.Go(func() error {
			body := map[string]any{"flow_id": "order_fulfilment", "applicant": "u_chen",
				"form": order(fmt.Sprintf("B-%d", i), "500.00")}
			status, err := c.send(ctx, http.MethodPost, "/api/v1/instances", body, &out[i])
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("start: %d", status)
			}
			return err
		})
	}
	return out, g.Wait()
}

// BenchmarkChatDelivery: b.N notifications from the engine's commit to the
// simulator's inbox — started orders, each opening three finance task
// cards, committed by 16 API clients while the relay, the Redis queue and
// the pipeline deliver them. Latency is from the instance's CreatedAt (the
// engine's clock as it builds the commit, so it includes the transaction)
// to the simulator's Send. While the pipeline delivers more slowly than
// the starters commit, a backlog builds and the latency measures it, so
// it grows with b.N: compare it at one -benchtime only, and read
// notifications/s as the pipeline's capacity.
//
// CARDFLOW_BENCH_PACE=N offers N notifications a second instead (an order,
// three cards, every 3/N s): below the capacity no backlog builds, and the
// latency is the commit-to-card time at that rate.
func BenchmarkChatDelivery(b *testing.B) {
	var interval time.Duration
	if pace := benchtest.Pace(b); pace > 0 {
		interval = time.Duration(3 * float64(time.Second) / pace)
	}
	c := startChat(b, nil)
	// Warm up first (the pool's connections, prepared statements, the
	// queue's consumer groups): otherwise the first orders' cards are the
	// slowest of a paced run, and its p99 falls as b.N grows.
	warm := watchSends(c.sim, 3*benchWarmOrders)
	if _, err := c.startOrders(b.Context(), benchWarmOrders); err != nil {
		b.Fatal(err)
	}
	warm.wait(b)
	orders := (b.N + 2) / 3
	sends := watchSends(c.sim, 3*orders)
	b.ResetTimer()
	list, err := c.startOrdersPaced(b.Context(), orders, interval)
	if err != nil {
		b.Fatal(err)
	}
	sends.wait(b)
	b.StopTimer()

	latencies := make([]time.Duration, 0, 3*orders)
	sends.mu.Lock()
	for _, o := range list {
		for _, task := range o.Instance.Tasks {
			latencies = append(latencies, sends.at[task.ID].Sub(o.Instance.CreatedAt))
		}
	}
	sends.mu.Unlock()
	b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "notifications/s")
	benchtest.ReportLatency(b, "", latencies)
}

// BenchmarkChatClick: b.N approvals clicked at the simulator's endpoint by
// 64 people at once, each answered with the card it decided, after the
// engine committed the decision. Each click is the 同意 button of a
// finance task card the pipeline delivered, pressed by its holder; the
// deliveries each decision causes (the other signers' copies, the
// applicant's card, the warehouse's tasks) run meanwhile, as they would.
// CARDFLOW_BENCH_PACE=N offers N clicks a second instead, as
// BenchmarkFeishuClick does.
func BenchmarkChatClick(b *testing.B) {
	c := startChat(b, nil)
	sends := watchSends(c.sim, 3*b.N)
	list, err := c.startOrders(b.Context(), b.N)
	if err != nil {
		b.Fatal(err)
	}
	sends.wait(b)
	c.sim.FailWith(nil)
	type click struct {
		user string
		card bot.Card
	}
	clicks := make([]click, b.N)
	simIDs := map[string]string{"u_qian": "qian", "u_sun": "sun", "u_zhao": "zhao"}
	sends.mu.Lock()
	for i, o := range list {
		task := o.Instance.Tasks[i%len(o.Instance.Tasks)]
		clicks[i] = click{user: simIDs[task.Assignee], card: sends.cards[task.ID]}
	}
	sends.mu.Unlock()

	pace := benchtest.Pace(b)
	b.ResetTimer()
	latencies, took := clickers(b, pace, func(i int) error {
		k := clicks[i]
		i0 := slices.IndexFunc(k.card.Buttons, func(b bot.Button) bool { return b.Action == flows.ActApprove })
		if i0 < 0 {
			return fmt.Errorf("no approve button on %s", k.card.Subject)
		}
		var out clickReply
		status, err := c.send(b.Context(), http.MethodPost, "/sim/api/click", map[string]any{"user": k.user,
			"payload": k.card.Buttons[i0].Payload, "action": flows.ActApprove}, &out)
		switch {
		case err != nil:
			return err
		case status != http.StatusOK || out.Reply.Toast.Kind != bot.ToastSuccess:
			return fmt.Errorf("click %s: %d %+v", k.card.Subject, status, out.Reply.Toast)
		case out.Reply.Card == nil || len(out.Reply.Card.Buttons) > 0:
			return errors.New("the answer is not the decided card")
		}
		return nil
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "clicks/s")
	benchtest.ReportLatency(b, "", latencies)
}
