package orders_test

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/orders/orderstest"
	"cardflow/bot/bottest"
)

func TestJDPollLoop(t *testing.T) {
	t.Parallel()
	jd := orderstest.NewJD("jd-secret-0123456789")
	srv := httptest.NewServer(jd)
	t.Cleanup(srv.Close)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, china)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	for i := range 5 { // 5 orders over the last 3 hours, 2 in the last hour
		jd.Add(fmt.Sprintf("J-%d", i), now.Add(-3*time.Hour+time.Duration(i)*35*time.Minute))
	}
	poller := &orders.JDPoller{BaseURL: srv.URL, AppKey: "jd-app", AppSecret: "jd-secret-0123456789",
		AccessToken: "jd-token-abcdef", Now: clock, Since: 4 * time.Hour, PageSize: 2}
	store := newMemStore()
	woken := 0
	loop := orders.NewPollLoop("jd-pop", []string{"10012345"}, poller, store, bottest.NewLog().Logger, clock,
		func() { woken++ })

	n, err := loop.PollOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, 5, n, "four hours back, in windows of an hour and pages of two")
	require.Equal(t, 1, woken)
	got, err := store.OrdersByNo(t.Context(), "J-4")
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, orders.Money(2500), got[0].Paid)
	cursor, err := store.OrderCursor(t.Context(), "jd-pop", "10012345")
	require.NoError(t, err)
	require.Equal(t, now.Add(-time.Minute).Format(time.RFC3339)+"|1", cursor, "up to a minute ago")

	// A new order, and a poll after a "restart": a new loop resumes from
	// the stored cursor and stores only the new one.
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	jd.Add("J-9", now.Add(-5*time.Minute))
	again := orders.NewPollLoop("jd-pop", []string{"10012345"}, poller, store, bottest.NewLog().Logger, clock, nil)
	n, err = again.PollOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	cursor, err = store.OrderCursor(t.Context(), "jd-pop", "10012345")
	require.NoError(t, err)

	// A refused signature or a JD outage stops the poll where it was.
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	log := bottest.NewLog()
	bad := &orders.JDPoller{BaseURL: srv.URL, AppKey: "jd-app", AppSecret: "wrong-secret-0123", AccessToken: "jd-token-abcdef",
		Now: clock}
	_, err = orders.NewPollLoop("jd-pop", []string{"10012345"}, bad, store, log.Logger, clock, nil).PollOnce(t.Context())
	require.ErrorContains(t, err, "jd: enSearch refused: code 19: 签名错误")
	jd.Fail(true)
	_, err = again.PollOnce(t.Context())
	require.ErrorContains(t, err, "HTTP 502")
	after, err := store.OrderCursor(t.Context(), "jd-pop", "10012345")
	require.NoError(t, err)
	require.Equal(t, cursor, after, "the cursor stays where the last good poll left it")
	bottest.AssertNoLeak(t, []string{"jd-token-abcdef", "jd-secret-0123456789"}, err, log.String())
}
