package orders_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/config"
	"cardflow/internal/benchtest"
	"cardflow/storage/postgres"
	"cardflow/storage/postgres/pgtest"
)

// benchClients is how many clients post at once, as wrk -c64 does for
// BENCH.md's HTTP ceiling.
const benchClients = 64

// BenchmarkOrderIngest: b.N signed Taobao order webhooks (about 1 KiB, each
// a distinct paid order) posted over HTTP by 64 clients to the orders
// webhook on PostgreSQL, each answered 202 only once its event and order
// are committed; next to, in the same run and on the same server, b.N
// posts to the ceiling: a chi handler that reads and checks the same
// signature (orders.ReadSigned) and answers 202. It reports both rates,
// their ratio and both latencies, and checks every order was stored.
//
//	go test ./adapters/orders -run '^$' -bench OrderIngest -benchtime 20000x -count 3
func BenchmarkOrderIngest(b *testing.B) {
	dsn := pgtest.SchemaDSN(b)
	// CARDFLOW_BENCH_ALONE=1: every event in a transaction of its own, the
	// store's grouping off (the baseline of the grouping).
	store, err := postgres.Open(b.Context(), dsn, postgres.Options{MaxConns: benchConns(b), Migrate: true,
		IngestAlone: os.Getenv("CARDFLOW_BENCH_ALONE") == "1"})
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, store.Close()) })
	const secret = "whsec-bench-0123456789"
	sources, err := orders.ParseSources([]config.Secret{"tmall-main=taobao:" + secret})
	require.NoError(b, err)
	log := slog.New(slog.DiscardHandler)
	hook := orders.NewWebhook(sources, store, log, nil, nil)
	r := chi.NewRouter()
	r.Post("/webhooks/orders/{source}", hook.ServeHTTP)
	r.Post("/plain/{source}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := orders.ReadSigned(w, r, sources[chi.URLParam(r, "source")], time.Now(), log); ok {
			w.WriteHeader(http.StatusAccepted)
		}
	})
	srv := httptest.NewServer(r)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}

	// Bodies are built and signed before the clock starts: the sender's
	// work is the shop's, not cardflow's. Every run posts new orders.
	base := time.Now().UnixNano() / 1000
	sign := func(path string, first int64) []func() *http.Request {
		out := make([]func() *http.Request, b.N)
		ts := time.Now().Unix()
		for i := range out {
			body := taobaoOrder(first + int64(i))
			sig := orders.Sign([]byte(secret), ts, body)
			out[i] = func() *http.Request {
				req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, srv.URL+path, bytes.NewReader(body))
				req.Header.Set(orders.HeaderTimestamp, strconv.FormatInt(ts, 10))
				req.Header.Set(orders.HeaderSignature, sig)
				return req
			}
		}
		return out
	}
	plain, ingest := sign("/plain/tmall-main", base), sign("/webhooks/orders/tmall-main", base+int64(b.N))
	post := func(reqs []func() *http.Request) func(i int) error {
		return func(i int) error {
			resp, err := client.Do(reqs[i]())
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusAccepted {
				return fmt.Errorf("post %d: %d %s", i, resp.StatusCode, raw)
			}
			return nil
		}
	}
	b.ResetTimer()
	start := time.Now()
	plainLat := benchtest.Clients(b, benchClients, b.N, post(plain))
	plainTook := time.Since(start)
	start = time.Now()
	ingestLat := benchtest.Clients(b, benchClients, b.N, post(ingest))
	ingestTook := time.Since(start)
	b.StopTimer()

	conn, err := pgx.Connect(context.WithoutCancel(b.Context()), dsn)
	require.NoError(b, err)
	defer conn.Close(context.WithoutCancel(b.Context()))
	var stored int
	require.NoError(b, conn.QueryRow(b.Context(), `SELECT count(*) FROM orders`).Scan(&stored))
	require.Equal(b, b.N, stored, "every order answered 202 is stored")

	plainRate, ingestRate := float64(b.N)/plainTook.Seconds(), float64(b.N)/ingestTook.Seconds()
	b.ReportMetric(plainRate, "plain/s")
	b.ReportMetric(ingestRate, "ingest/s")
	b.ReportMetric(ingestRate/plainRate, "ratio")
	benchtest.ReportLatency(b, "plain", plainLat)
	benchtest.ReportLatency(b, "ingest", ingestLat)
}

// taobaoOrder is a paid Taobao order as its webhook payload, numbered tid.
func taobaoOrder(tid int64) []byte {
	return fmt.Appendf(nil, `{"trade_fullinfo_get_response":{"trade":{"tid":%d,"status":"WAIT_SELLER_SEND_GOODS",`+
		`"seller_nick":"云栖旗舰店","buyer_nick":"李*","receiver_state":"浙江省","receiver_city":"杭州市",`+
		`"payment":"256.00","total_fee":"266.00","post_fee":"0.00","discount_fee":"10.00",`+
		`"created":"2026-11-30 09:00:00","pay_time":"2026-11-30 09:01:00","modified":"2026-11-30 09:01:00",`+
		`"orders":[{"oid":%d1,"sku_id":"5001234567890","outer_sku_id":"TEA-LJ-250","title":"明前龙井 250g",`+
		`"num":1,"price":"128.00","payment":"123.00","refund_status":"NO_REFUND"},`+
		`{"oid":%d2,"sku_id":"5001234567891","outer_sku_id":"CUP-01","title":"玻璃杯 两只装","num":2,`+
		`"price":"69.00","payment":"133.00","refund_status":"NO_REFUND"}]}}}`, tid, tid, tid)
}

// benchConns is the store's pool size: CARDFLOW_BENCH_CONNS, else 10 as
// store.max_conns defaults to.
func benchConns(b *testing.B) int32 {
	n := 10
	if v := os.Getenv("CARDFLOW_BENCH_CONNS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	return int32(n)
}
