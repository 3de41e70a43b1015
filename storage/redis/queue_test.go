package redis_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"cardflow/internal/testenv"
	"cardflow/queue"
	"cardflow/queue/queuetest"
	"cardflow/storage/redis"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T) queue.Queue {
		// A short PollInterval makes stopping consumers quick; the
		// default (1s) bounds how long Consume may take to return.
		return newTestQueue(t, newTestClient(t), redis.QueueOptions{DedupeWindow: time.Minute, PollInterval: 50 * time.Millisecond})
	})
}

func TestPruneConformance(t *testing.T) {
	t.Parallel()
	queuetest.RunPrune(t, func(t *testing.T, now func() time.Time) queue.Queue {
		return newTestQueue(t, newTestClient(t), redis.QueueOptions{DedupeWindow: time.Minute,
			PollInterval: 50 * time.Millisecond, Now: now})
	})
}

func TestHandledMessagesLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newTestClient(t)
	prefix := testPrefix()
	q := newTestQueue(t, client, redis.QueueOptions{Prefix: prefix, DedupeWindow: time.Minute})
	const n = 200
	want := ids("m", n)
	require.NoError(t, q.Publish(ctx, "orders", asMessages(want)...))

	tl := newTally()
	all := tl.expect(want...)
	c := start(t, q, "orders", tl.handle, queue.ConsumeOptions{VisibilityTimeout: time.Minute})
	await(t, all, "every message handled")
	c.stop(t)

	stream := prefix + "{orders}:stream"
	require.Zero(t, client.XLen(ctx, stream).Val(), "handled entries are deleted from the stream")
	pending, err := client.XPending(ctx, stream, "cardflow").Result()
	require.NoError(t, err)
	require.Zero(t, pending.Count, "nothing left pending")
	require.Zero(t, client.Exists(ctx, prefix+"{orders}:delayed").Val())
	consumers, err := client.XInfoConsumers(ctx, stream, "cardflow").Result()
	require.NoError(t, err)
	require.Empty(t, consumers, "a consumer holding nothing leaves the group when it stops")

	require.Equal(t, n, countKeys(t, client, prefix+"{orders}:done:*"))
	ttl, err := client.PTTL(ctx, prefix+"{orders}:done:m-7").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0), "dedupe marks expire")
	require.LessOrEqual(t, ttl, time.Minute)
}

func TestDeadLettersCapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newTestClient(t)
	prefix := testPrefix()
	failedAt := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	q := newTestQueue(t, client, redis.QueueOptions{Prefix: prefix, MaxDeadLetters: 3, Now: func() time.Time { return failedAt }})
	failed := make(chan struct{}, 5)
	c := start(t, q, "orders", func(context.Context, queue.Message) error {
		failed <- struct{}{}
		return queue.Permanent(errors.New("no"))
	}, queue.ConsumeOptions{Concurrency: 1})
	require.NoError(t, q.Publish(ctx, "orders", asMessages(ids("d", 5))...))
	for range 5 {
		await(t, failed, "a failure")
	}
	c.stop(t)
	require.EqualValues(t, 3, client.LLen(ctx, prefix+"{orders}:dead").Val())
	dls, err := q.DeadLetters(ctx, "orders", 0)
	require.NoError(t, err)
	got := make([]string, len(dls))
	for i, dl := range dls {
		got[i] = dl.Message.ID
		require.True(t, failedAt.Equal(dl.FailedAt), "FailedAt %s comes from the injected clock", dl.FailedAt)
	}
	require.Equal(t, []string{"d-4", "d-3", "d-2"}, got, "newest kept, oldest dropped")
}

func TestMalformedEntryDeadLettered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newTestClient(t)
	prefix := testPrefix()
	q := newTestQueue(t, client, redis.QueueOptions{Prefix: prefix})
	require.NoError(t, client.XAdd(ctx, &goredis.XAddArgs{Stream: prefix + "{orders}:stream", Values: []any{"foo", "bar"}}).Err())
	require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "good"}))
	tl := newTally()
	all := tl.expect("good")
	c := start(t, q, "orders", tl.handle, queue.ConsumeOptions{Concurrency: 1})
	await(t, all, "the good message")
	c.stop(t) // the malformed entry came first, so it is settled by now
	dls, err := q.DeadLetters(ctx, "orders", 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Contains(t, dls[0].Error, "malformed queue entry")
	require.Equal(t, 1, tl.count("good"))
	require.Zero(t, tl.count(""), "the handler never sees the malformed entry")
	depth, err := q.Depth(ctx, "orders")
	require.NoError(t, err)
	require.Zero(t, depth)
}

func TestCrashedConsumerForgotten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newTestClient(t)
	prefix := testPrefix()
	stream := prefix + "{orders}:stream"
	q := newTestQueue(t, client, redis.QueueOptions{Prefix: prefix})
	require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "held"}))
	// A process that read a message and died: its consumer holds the entry.
	require.NoError(t, client.XGroupCreateMkStream(ctx, stream, "cardflow", "0").Err())
	require.NoError(t, client.XReadGroup(ctx, &goredis.XReadGroupArgs{
		Group: "cardflow", Consumer: "ghost", Streams: []string{stream, ">"}, Count: 1, Block: -1,
	}).Err())

	got := make(chan queue.Message, 1)
	const vt = 50 * time.Millisecond
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		got <- m
		return nil
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: vt})
	select {
	case m := <-got:
		require.Equal(t, "held", m.ID)
		require.Equal(t, 2, m.Attempt)
	case <-time.After(patience):
		t.Fatal("the crashed consumer's message was not redelivered")
	}
	// Stale after 10 visibility timeouts; the live consumer keeps polling.
	// (On a loaded machine the live one may itself idle that long and be
	// dropped too; its next read brings it back, so it is waited for.)
	require.Eventually(t, func() bool {
		consumers, err := client.XInfoConsumers(ctx, stream, "cardflow").Result()
		require.NoError(t, err)
		for _, ci := range consumers {
			if ci.Name == "ghost" {
				return false
			}
		}
		return len(consumers) == 1
	}, patience, 10*time.Millisecond, "the ghost consumer is forgotten, the live one stays")
	c.stop(t)
}

func TestLostStreamIsRecreated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newTestClient(t)
	prefix := testPrefix()
	q := newTestQueue(t, client, redis.QueueOptions{Prefix: prefix, PollInterval: 10 * time.Millisecond})
	tl := newTally()
	c := start(t, q, "orders", tl.handle, queue.ConsumeOptions{Concurrency: 2})
	require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "first"}))
	await(t, tl.expect("first"), "the first message")

	// Redis restarted without persistence: stream and group are gone.
	require.NoError(t, client.Del(ctx, prefix+"{orders}:stream").Err())
	require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "second"}))
	await(t, tl.expect("second"), "a message published after the loss")
	c.stop(t)
}

func TestCloseStopsConsumers(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t, newTestClient(t), redis.QueueOptions{PollInterval: 10 * time.Millisecond})
	returned := make(chan error, 1)
	go func() {
		returned <- q.Consume(context.Background(), "orders", func(context.Context, queue.Message) error { return nil }, queue.ConsumeOptions{})
	}()
	require.NoError(t, q.Close())
	select {
	case err := <-returned:
		require.ErrorIs(t, err, queue.ErrClosed)
	case <-time.After(patience):
		t.Fatal("Consume did not return after Close")
	}
	require.NoError(t, q.Close(), "Close is idempotent")
}

func TestOpenOwnsItsClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := testPrefix()
	t.Cleanup(func() { deleteKeys(t, prefix) })
	q, err := redis.Open(redisOptions(t).Addr, redis.QueueOptions{Prefix: prefix})
	require.Error(t, err, "a bare address is not a redis:// URL")
	require.Nil(t, q)

	q, err = redis.Open(testenv.RedisURL(t), redis.QueueOptions{Prefix: prefix})
	require.NoError(t, err)
	require.NoError(t, q.Ping(ctx))
	require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "m"}))
	depth, err := q.Depth(ctx, "orders")
	require.NoError(t, err)
	require.EqualValues(t, 1, depth)
	require.NoError(t, q.Close())
	require.NoError(t, q.Close(), "Close is idempotent")

	// A queue on a caller's client leaves it open.
	client := newTestClient(t)
	q2, err := redis.NewQueue(client, redis.QueueOptions{Prefix: prefix})
	require.NoError(t, err)
	require.NoError(t, q2.Close())
	require.NoError(t, client.Ping(ctx).Err())
}

func TestNewClientKeepsPasswordOutOfErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
	}{
		{name: "bad port", url: "redis://user:s3cret@127.0.0.1:notaport/0"},
		{name: "bad scheme", url: "http://user:s3cret@127.0.0.1:6379/0"},
		{name: "bad database", url: "redis://:s3cret@127.0.0.1:6379/abc"},
		{name: "control character", url: "redis://user:s3cret@127.0.0.1:6379/0\x7f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := redis.NewClient(tt.url)
			require.Error(t, err)
			require.NotContains(t, err.Error(), "s3cret")
		})
	}
	client, err := redis.NewClient("redis://:s3cret@10.1.2.3:6380/2")
	require.NoError(t, err)
	defer client.Close()
	require.Equal(t, "10.1.2.3:6380", client.Options().Addr)
	require.Equal(t, 2, client.Options().DB)
}

func TestNewQueueRejectsBadOptions(t *testing.T) {
	t.Parallel()
	// Nothing listens there; one quick dial is enough to learn it.
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	tests := []struct {
		name   string
		client *goredis.Client
		opts   redis.QueueOptions
	}{
		{name: "nil client", client: nil},
		{name: "negative dedupe window", client: client, opts: redis.QueueOptions{DedupeWindow: -time.Second}},
		{name: "negative dead-letter cap", client: client, opts: redis.QueueOptions{MaxDeadLetters: -1}},
		{name: "poll interval below a millisecond", client: client, opts: redis.QueueOptions{PollInterval: time.Microsecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c goredis.UniversalClient
			if tt.client != nil {
				c = tt.client
			}
			_, err := redis.NewQueue(c, tt.opts)
			require.Error(t, err)
		})
	}
	q, err := redis.NewQueue(client, redis.QueueOptions{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err, "NewQueue does not need Redis to be up")
	require.Error(t, q.Ping(context.Background()))
}
