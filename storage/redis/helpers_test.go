package redis_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"cardflow/internal/testenv"
	"cardflow/queue"
	"cardflow/storage/redis"
)

// patience bounds every wait for a signal; tests go on as soon as it comes.
const patience = 20 * time.Second

// redisOptions parses the test Redis URL.
func redisOptions(t testing.TB) *goredis.Options {
	t.Helper()
	opts, err := goredis.ParseURL(testenv.RedisURL(t))
	require.NoError(t, err)
	return opts
}

// newTestClient connects to the test Redis.
func newTestClient(t testing.TB) *goredis.Client {
	t.Helper()
	client, err := redis.NewClient(testenv.RedisURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// testPrefix is a key prefix of the test's own, so parallel tests (and
// other packages' tests on the same Redis) never meet.
func testPrefix() string { return "cardflow-test:" + queue.NewID()[:12] + ":" }

// newTestQueue makes a queue under a fresh prefix (unless opts has one)
// and deletes its keys at cleanup.
func newTestQueue(t testing.TB, client *goredis.Client, opts redis.QueueOptions) *redis.Queue {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = testPrefix()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	q, err := redis.NewQueue(client, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = q.Close()
		deleteKeys(t, opts.Prefix)
	})
	return q
}

// deleteKeys removes every key under prefix, on a client of its own so it
// works after the test's client is closed.
func deleteKeys(t testing.TB, prefix string) {
	client := goredis.NewClient(redisOptions(t))
	defer client.Close()
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			require.NoError(t, client.Unlink(ctx, keys...).Err())
			keys = keys[:0]
		}
	}
	require.NoError(t, iter.Err())
	if len(keys) > 0 {
		require.NoError(t, client.Unlink(ctx, keys...).Err())
	}
}

// countKeys counts the keys matching pattern.
func countKeys(t *testing.T, client *goredis.Client, pattern string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	iter := client.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	require.NoError(t, iter.Err())
	return n
}

// consumer is a Consume call running in the background.
type consumer struct {
	cancel   context.CancelFunc
	returned chan error
	once     sync.Once
}

func start(t *testing.T, q queue.Queue, topic string, h queue.Handler, opts queue.ConsumeOptions) *consumer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cancel: cancel, returned: make(chan error, 1)}
	go func() { c.returned <- q.Consume(ctx, topic, h, opts) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels the consumer and requires that Consume returns nil.
func (c *consumer) stop(t *testing.T) {
	t.Helper()
	c.once.Do(func() {
		c.cancel()
		select {
		case err := <-c.returned:
			require.NoError(t, err)
		case <-time.After(patience):
			t.Fatal("Consume did not return")
		}
	})
}

// tally counts deliveries per ID and signals when every wanted ID was seen.
type tally struct {
	mu     sync.Mutex
	counts map[string]int
	want   map[string]bool
	all    chan struct{}
}

func newTally() *tally { return &tally{counts: map[string]int{}} }

func (c *tally) handle(_ context.Context, m queue.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[m.ID]++
	c.check()
	return nil
}

// expect returns a channel closed once every id was handled.
func (c *tally) expect(ids ...string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = map[string]bool{}
	for _, id := range ids {
		c.want[id] = true
	}
	c.all = make(chan struct{})
	c.check()
	return c.all
}

func (c *tally) check() {
	if c.want == nil {
		return
	}
	for id := range c.want {
		if c.counts[id] == 0 {
			return
		}
	}
	close(c.all)
	c.want = nil
}

func (c *tally) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[id]
}

// await fails the test unless ch is closed or yields within patience.
func await[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("timed out after %s waiting for %s", patience, what)
	}
}

// ids returns prefix-0 … prefix-(n-1).
func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + "-" + strconv.Itoa(i)
	}
	return out
}

// asMessages makes one message per id.
func asMessages(ids []string) []queue.Message {
	out := make([]queue.Message, len(ids))
	for i, id := range ids {
		out[i] = queue.Message{ID: id, Payload: []byte("payload of " + id)}
	}
	return out
}
