package stock_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/bot/bottest"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/internal/testclock"
	"cardflow/storage/sqlite"
)

const (
	pushSecret = "push-signing-secret-0123"
	pushToken  = "url-token-secret-9876"
)

// received is one push a receiver took, as it decoded it.
type received struct {
	SKU      string `json:"sku"`
	Sellable int64  `json:"sellable"`
	Version  int64  `json:"version"`
	At       string `json:"at"`
	key      string
}

// receiver is a push target. It verifies each push with the inbound
// webhooks' own verifier, then answers with status (200 when nil); a
// push it refuses is not recorded.
type receiver struct {
	mu     sync.Mutex
	got    []received
	tries  int
	status func(try int) (int, http.Header)
	// block, when set, is called (outside the lock) before answering.
	block func()
	clock *testclock.Clock
	t     *testing.T
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err := orders.Verify(r.Header, body, []byte(pushSecret), rc.clock.Now()); err != nil {
		rc.t.Errorf("push not verified: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Query().Get("token") != pushToken {
		rc.t.Errorf("push without the URL's token")
	}
	if rc.block != nil {
		rc.block()
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.tries++
	status, h := http.StatusOK, http.Header(nil)
	if rc.status != nil {
		status, h = rc.status(rc.tries)
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	if status/100 != 2 {
		return
	}
	var p received
	if err := json.Unmarshal(body, &p); err != nil {
		rc.t.Errorf("push body: %v", err)
	}
	p.key = r.Header.Get(stock.HeaderIdempotencyKey)
	rc.got = append(rc.got, p)
}

func (rc *receiver) deliveries() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) attempts() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.tries
}

type pushBundle struct {
	store  *sqlite.Store
	engine *flows.Engine
	clock  *testclock.Clock
	recv   *receiver
	alerts *alerts
	log    *bottest.Log
	pusher *stock.Pusher
	target stock.PushTarget
}

func newPushBundle(t *testing.T, opts stock.PushOptions) *pushBundle {
	t.Helper()
	store, engine := exampletest.World(t)
	b := &pushBundle{store: store, engine: engine, clock: testclock.New(time.Now().Add(time.Minute).Truncate(time.Second)),
		alerts: &alerts{next: engine}, log: bottest.NewLog()}
	b.recv = &receiver{clock: b.clock, t: t}
	srv := httptest.NewServer(b.recv)
	t.Cleanup(srv.Close)
	b.target = stock.PushTarget{Name: "tmall-bridge", URL: config.Secret(srv.URL + "/stock?token=" + pushToken),
		Secret: pushSecret}
	opts.Alerts, opts.Client = b.alerts, srv.Client()
	b.pusher = stock.NewPusher(store, []stock.PushTarget{b.target}, opts, b.log.Logger, b.clock.Now)
	require.NoError(t, b.pusher.Register(t.Context()))
	return b
}

// set makes the SKU's stock in hz-1 qty.
func (b *pushBundle) set(t *testing.T, id, sku string, qty int64) {
	t.Helper()
	_, _, first, err := b.store.ApplyMovement(t.Context(), stock.Movement{Source: "wms", EventID: id, SKU: sku,
		Warehouse: "hz-1", Kind: stock.KindSet, Qty: qty, At: at})
	require.NoError(t, err)
	require.True(t, first)
}

func (b *pushBundle) pushOnce(t *testing.T, want int) {
	t.Helper()
	n, err := b.pusher.PushOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, want, n, "pushes delivered")
}

func TestPushCoalesces(t *testing.T) {
	t.Parallel()
	b := newPushBundle(t, stock.PushOptions{})
	for i := range 10 {
		b.set(t, fmt.Sprint("count-", i), "SKU-1", int64(10+i))
	}
	b.set(t, "count-cup", "CUP-1", 3)
	b.pushOnce(t, 2)
	got := b.recv.deliveries()
	require.Len(t, got, 2, "ten changes of SKU-1, one push")
	byKey := map[string]received{}
	for _, r := range got {
		byKey[r.SKU] = r
	}
	require.Equal(t, int64(19), byKey["SKU-1"].Sellable, "the last quantity")
	require.Equal(t, int64(10), byKey["SKU-1"].Version)
	require.Equal(t, "tmall-bridge/SKU-1/10", byKey["SKU-1"].key)
	require.Equal(t, int64(3), byKey["CUP-1"].Sellable)
	_, err := time.Parse(time.RFC3339, byKey["SKU-1"].At)
	require.NoError(t, err)

	b.pushOnce(t, 0)
	require.Equal(t, 2, b.recv.attempts(), "nothing more to push")
}

func TestPushRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	b := newPushBundle(t, stock.PushOptions{MinBackoff: 2 * time.Second, MaxBackoff: 10 * time.Minute, AlertAfter: 50})
	down := true
	answers := []struct {
		status int
		header http.Header
	}{
		{status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {"120"}}},
		{status: http.StatusBadGateway},
		{status: http.StatusBadRequest},
	}
	b.recv.status = func(try int) (int, http.Header) {
		if !down {
			return http.StatusNoContent, nil
		}
		a := answers[min(try, len(answers))-1]
		return a.status, a.header
	}
	b.set(t, "count-1", "SKU-1", 5)
	b.pushOnce(t, 0)
	require.Equal(t, 1, b.recv.attempts())

	// The 429's Retry-After holds the next try back 120 s.
	b.clock.Advance(119 * time.Second)
	b.pushOnce(t, 0)
	require.Equal(t, 1, b.recv.attempts(), "within Retry-After")
	b.set(t, "count-2", "SKU-1", 7) // a change while backing off keeps the backoff
	b.pushOnce(t, 0)
	require.Equal(t, 1, b.recv.attempts(), "within Retry-After")
	b.clock.Advance(time.Second)
	b.pushOnce(t, 0)
	require.Equal(t, 2, b.recv.attempts(), "a 502")

	// The backoff doubles: after the second failure it is 2-4 s, so 1 s
	// later nothing is tried and 4 s later it is.
	b.clock.Advance(time.Second)
	b.pushOnce(t, 0)
	require.Equal(t, 2, b.recv.attempts(), "backing off")
	b.clock.Advance(3 * time.Second)
	b.pushOnce(t, 0)
	require.Equal(t, 3, b.recv.attempts(), "a 400: refused, logged, retried all the same")
	require.Contains(t, b.log.String(), `"level":"ERROR","msg":"stock push failed, retrying","target":"tmall-bridge","attempts":3`)
	for range 3 {
		b.clock.Advance(10 * time.Minute)
		b.pushOnce(t, 0)
	}
	require.Equal(t, 6, b.recv.attempts())

	down = false
	b.clock.Advance(10 * time.Minute)
	b.pushOnce(t, 1)
	require.Equal(t, []received{{SKU: "SKU-1", Sellable: 7, Version: 2, key: "tmall-bridge/SKU-1/2"}},
		withoutAt(b.recv.deliveries()), "the final quantity, once")
	b.clock.Advance(time.Hour)
	b.pushOnce(t, 0)
}

func TestPushChangeDuringFlight(t *testing.T) {
	t.Parallel()
	b := newPushBundle(t, stock.PushOptions{})
	inFlight, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.recv.block = func() {
		once.Do(func() {
			close(inFlight)
			<-release
		})
	}
	b.set(t, "count-1", "SKU-1", 5)
	done := make(chan error)
	go func() {
		_, err := b.pusher.PushOnce(t.Context())
		done <- err
	}()
	<-inFlight
	b.set(t, "count-2", "SKU-1", 4)
	close(release)
	require.NoError(t, <-done)
	b.pushOnce(t, 1)
	b.pushOnce(t, 0)
	require.Equal(t, []received{
		{SKU: "SKU-1", Sellable: 5, Version: 1, key: "tmall-bridge/SKU-1/1"},
		{SKU: "SKU-1", Sellable: 4, Version: 2, key: "tmall-bridge/SKU-1/2"},
	}, withoutAt(b.recv.deliveries()), "the newer version is pushed after")
}

func TestPushShutdownReleasesItsClaim(t *testing.T) {
	t.Parallel()
	b := newPushBundle(t, stock.PushOptions{})
	inFlight, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	b.recv.block = func() {
		if first.CompareAndSwap(false, true) {
			close(inFlight)
			<-release // the first push hangs until the test is over
		}
	}
	t.Cleanup(func() { close(release) }) // before the server closes
	b.set(t, "count-1", "SKU-1", 5)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := b.pusher.PushOnce(ctx)
		done <- err
	}()
	<-inFlight
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.NotContains(t, b.log.String(), "stock push failed", "a shutdown is not the receiver's failure")

	// The row was put back due now, its attempts unchanged: the next
	// round pushes it at once.
	b.pushOnce(t, 1)
	require.Equal(t, []received{{SKU: "SKU-1", Sellable: 5, Version: 1, key: "tmall-bridge/SKU-1/1"}},
		withoutAt(b.recv.deliveries()))
}

func TestPushAlertsOnceAndResolves(t *testing.T) {
	t.Parallel()
	b := newPushBundle(t, stock.PushOptions{AlertAfter: 3})
	down := true
	b.recv.status = func(int) (int, http.Header) {
		if down {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	}
	b.set(t, "count-1", "SKU-1", 5)
	b.set(t, "count-2", "SKU-2", 6)
	ctx := t.Context()
	for i := range 5 {
		b.pushOnce(t, 0)
		require.Equal(t, i+1, b.recv.attempts(), "the rest of the batch waits with the first")
		b.clock.Advance(10 * time.Minute)
	}
	require.Equal(t, []string{"stock.push_failing:fired"}, b.alerts.outcomes, "started once, at the third failure")
	paging, err := b.engine.Tasks(ctx, flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, paging, "the admin on call is paged")
	for _, v := range paging {
		require.Equal(t, "stock_push_alert", v.FlowID)
		require.Equal(t, "库存回传失败 · tmall-bridge", v.Title)
	}

	down = false
	b.pushOnce(t, 2)
	require.Equal(t, []string{"stock.push_failing:fired", "stock.push_recovered:resolved"}, b.alerts.outcomes)
	open, err := b.engine.Tasks(ctx, flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, open, "resolved: nobody is paged any more")

	// A new outage alerts again.
	down = true
	b.set(t, "count-3", "SKU-1", 1)
	for range 3 {
		b.pushOnce(t, 0)
		b.clock.Advance(10 * time.Minute)
	}
	require.Equal(t, []string{"stock.push_failing:fired", "stock.push_recovered:resolved", "stock.push_failing:fired"},
		b.alerts.outcomes)
}

func TestPushLeaksNoSecret(t *testing.T) {
	t.Parallel()
	b := newPushBundle(t, stock.PushOptions{})
	b.recv.status = func(int) (int, http.Header) { return http.StatusForbidden, nil }
	b.set(t, "count-1", "SKU-1", 5)
	b.pushOnce(t, 0)

	// A receiver that cannot be reached: the client's error names the URL.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	down := stock.PushTarget{Name: "wms", URL: config.Secret(srv.URL + "/stock?token=" + pushToken), Secret: pushSecret}
	p := stock.NewPusher(b.store, []stock.PushTarget{down}, stock.PushOptions{}, b.log.Logger, b.clock.Now)
	require.NoError(t, p.Register(t.Context()))
	_, err := p.PushOnce(t.Context())
	require.NoError(t, err)
	require.Contains(t, b.log.String(), `"target":"wms"`)
	require.Contains(t, b.log.String(), "connection refused")
	// The host and port may show (they help find the receiver); the path
	// and query, which may carry a token, and the signing secret never.
	bottest.AssertNoLeak(t, []string{pushSecret, pushToken, "/stock?token"}, err, b.log.String())
}

// withoutAt clears the pushes' times, which are the store's clock.
func withoutAt(list []received) []received {
	for i := range list {
		list[i].At = ""
	}
	return list
}
