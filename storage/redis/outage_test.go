package redis_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"cardflow/internal/testenv"
	"cardflow/queue"
	"cardflow/storage/redis"
)

// warnings is a slog handler that signals when messages containing given
// texts are logged, to learn that a consumer met the outage.
type warnings map[string]chan struct{}

func watch(texts ...string) warnings {
	w := warnings{}
	for _, text := range texts {
		w[text] = make(chan struct{}, 1)
	}
	return w
}

func (w warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w warnings) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w warnings) WithGroup(string) slog.Handler            { return w }
func (w warnings) Handle(_ context.Context, r slog.Record) error {
	for text, seen := range w {
		if strings.Contains(r.Message, text) {
			select {
			case seen <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

func TestRedisOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts := redisOptions(t)
	px := testenv.StartProxy(t, opts.Addr)
	opts.Addr = px.Addr
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = time.Second, 2*time.Second, time.Second
	opts.MaxRetries, opts.DialerRetries = 1, 1
	client := goredis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	const fetchFailed, recordFailed = "fetch failed", "recording results failed"
	logged := watch(fetchFailed, recordFailed)
	q := newTestQueue(t, client, redis.QueueOptions{DedupeWindow: time.Minute, PollInterval: 50 * time.Millisecond, Logger: slog.New(logged)})

	gate, blocked := make(chan struct{}), make(chan struct{}, 20)
	tl := newTally()
	c := start(t, q, "orders", func(ctx context.Context, m queue.Message) error {
		if strings.HasPrefix(m.ID, "held-") {
			select {
			case <-gate:
			default:
				blocked <- struct{}{}
				<-gate // in flight when Redis goes away
			}
		}
		return tl.handle(ctx, m)
	}, queue.ConsumeOptions{Concurrency: 4, VisibilityTimeout: time.Second, BackoffBase: 20 * time.Millisecond})

	before := ids("before", 10)
	require.NoError(t, q.Publish(ctx, "orders", asMessages(before)...))
	await(t, tl.expect(before...), "messages before the outage")
	held := ids("held", 20) // 4 in flight, 16 waiting in the stream
	require.NoError(t, q.Publish(ctx, "orders", asMessages(held)...))
	for range 4 {
		await(t, blocked, "handlers in flight")
	}

	px.Cut()
	require.Error(t, q.Publish(ctx, "orders", queue.Message{ID: "during"}), "Publish must fail while Redis is away")
	require.Error(t, q.Ping(ctx))
	close(gate) // handlers finish while their results cannot be recorded
	await(t, logged[fetchFailed], "the consumer to fail fetching")
	await(t, logged[recordFailed], "the consumer to fail recording the results of the handlers in flight")
	select {
	case err := <-c.returned:
		t.Fatalf("Consume returned during the outage: %v", err)
	default:
	}

	px.Restore(t)
	require.NoError(t, q.Ping(ctx))
	after := ids("after", 10)
	require.NoError(t, q.Publish(ctx, "orders", asMessages(after)...))
	await(t, tl.expect(append(held, after...)...), "every message published before or after the outage")
	c.stop(t)

	depth, err := q.Depth(ctx, "orders")
	require.NoError(t, err)
	require.Zero(t, depth, "nothing left behind once Redis came back")
	dls, err := q.DeadLetters(ctx, "orders", 0)
	require.NoError(t, err)
	require.Empty(t, dls)
}
