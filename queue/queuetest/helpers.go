package queuetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

// patience bounds every wait for a signal; it is a failure deadline, never
// a pause: tests proceed as soon as the signal arrives.
const patience = 20 * time.Second

// await fails the test unless ch yields a value within patience.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("timed out after %s waiting for %s", patience, what)
		var zero T
		return zero
	}
}

// consumer is a Consume call running in the background.
type consumer struct {
	cancel   context.CancelFunc
	returned chan error
	once     sync.Once
	err      error
}

// start runs q.Consume in a goroutine; the test's cleanup stops it.
func start(t *testing.T, q queue.Queue, topic string, h queue.Handler, opts queue.ConsumeOptions) *consumer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cancel: cancel, returned: make(chan error, 1)}
	go func() { c.returned <- q.Consume(ctx, topic, h, opts) }()
	t.Cleanup(func() { c.wait(t) })
	return c
}

// wait cancels the consumer and returns Consume's result once it returned.
func (c *consumer) wait(t *testing.T) error {
	t.Helper()
	c.cancel()
	c.once.Do(func() { c.err = await(t, c.returned, "Consume to return") })
	return c.err
}

// stop cancels the consumer and requires a clean return.
func (c *consumer) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.wait(t), "Consume must return nil when its context is cancelled")
}

// recorder collects deliveries from a handler and signals when it has seen
// a given number of them.
type recorder struct {
	mu      sync.Mutex
	seen    []queue.Message
	counts  map[string]int
	target  int
	reached chan struct{}
}

func newRecorder(target int) *recorder {
	return &recorder{counts: map[string]int{}, target: target, reached: make(chan struct{})}
}

// handle records m and acknowledges it.
func (r *recorder) handle(_ context.Context, m queue.Message) error {
	r.add(m)
	return nil
}

func (r *recorder) add(m queue.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, m)
	r.counts[m.ID]++
	if len(r.seen) == r.target {
		close(r.reached)
	}
}

func (r *recorder) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.reached:
	case <-time.After(patience):
		r.mu.Lock()
		defer r.mu.Unlock()
		t.Fatalf("timed out after %s: %d of %d deliveries", patience, len(r.seen), r.target)
	}
}

func (r *recorder) snapshot() ([]queue.Message, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	counts := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		counts[k] = v
	}
	return append([]queue.Message(nil), r.seen...), counts
}

// messages builds n messages with IDs prefix-0, prefix-1, … and payloads
// and keys derived from them.
func messages(prefix string, n int) []queue.Message {
	out := make([]queue.Message, n)
	for i := range out {
		id := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = queue.Message{ID: id, Key: "key-" + id, Payload: []byte("payload-" + id)}
	}
	return out
}

// publish publishes msgs in batches of batch.
func publish(t *testing.T, q queue.Queue, topic string, batch int, msgs ...queue.Message) {
	t.Helper()
	for len(msgs) > 0 {
		n := min(batch, len(msgs))
		require.NoError(t, q.Publish(context.Background(), topic, msgs[:n]...))
		msgs = msgs[n:]
	}
}

// requireDepth checks Depth of a topic.
func requireDepth(t *testing.T, q queue.Queue, topic string, want int64) {
	t.Helper()
	got, err := q.Depth(context.Background(), topic)
	require.NoError(t, err)
	require.Equal(t, want, got, "depth of %s", topic)
}

// deadLetters lists a topic's dead letters.
func deadLetters(t *testing.T, q queue.Queue, topic string, limit int) []queue.DeadLetter {
	t.Helper()
	dls, err := q.DeadLetters(context.Background(), topic, limit)
	require.NoError(t, err)
	return dls
}

// signal sends v without blocking; the channels it is used with are
// buffered for every value a correct queue produces.
func signal[T any](ch chan<- T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// patient options keep a slow, shared CI machine from triggering a
// redelivery the test did not ask for.
var patient = queue.ConsumeOptions{Concurrency: 4, VisibilityTimeout: time.Minute}
