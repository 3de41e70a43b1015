package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/bot"
	"cardflow/internal/benchtest"
	"cardflow/internal/testenv"
	"cardflow/storage/postgres"
	"cardflow/storage/postgres/pgtest"
)

// lookupSchema holds the look-up benchmark's orders in the test database.
// It is kept between runs (a million orders take minutes to load) and is
// not a schema any test uses.
const lookupSchema = "bench_order_lookup"

// lookupLoad is how long this process took to load the orders, kept for
// the benchmark's later rounds, which find them loaded.
var lookupLoad time.Duration

// BenchmarkOrderLookup: b.N `/order <no>` commands through the bot router
// (store look-up of the order and its flow instances, card render), one
// after the other, each for a random one of CARDFLOW_BENCH_ORDERS (default
// 1,000,000) orders kept in PostgreSQL, each order with its fulfilment
// instance. The orders are loaded by COPY into a schema of their own the
// first time (load-s reports how long it took; CARDFLOW_BENCH_RELOAD=1
// loads them again). It reports the p50 and p99 of a command's time.
//
//	go test ./adapters/orders -run '^$' -bench OrderLookup -benchtime 10000x -count 3
func BenchmarkOrderLookup(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("CARDFLOW_BENCH_ORDERS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	base := testenv.PostgresURL(b)
	dsn := pgtest.WithParam(b, base, "search_path", lookupSchema)
	if took := loadLookupOrders(b, base, dsn, n); took > 0 {
		lookupLoad = took
	}
	store, err := postgres.Open(b.Context(), dsn, postgres.Options{MaxConns: 10})
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, store.Close()) })
	router := bot.NewRouter()
	orders.RegisterCommands(router, store, orders.CommandOptions{Instances: store})
	reader := bot.Reader{UserID: "u_chen", Locale: bot.LocaleZH, Zone: time.FixedZone("CST", 8*3600)}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		no := lookupNo(rng.IntN(n))
		t0 := time.Now()
		cards, err := router.Handle(b.Context(), bot.Request{Reader: reader, Message: bot.Message{Text: "/order " + no}})
		lat[i] = time.Since(t0)
		if err != nil || len(cards) != 1 || cards[0].Text == "" {
			b.Fatalf("/order %s: %v %+v", no, err, cards)
		}
	}
	b.StopTimer()
	b.ReportMetric(lookupLoad.Seconds(), "load-s")
	benchtest.ReportLatency(b, "lookup", lat)
}

// lookupNo is the number of the i-th benchmark order: Taobao-like, 19
// digits.
func lookupNo(i int) string { return strconv.FormatInt(4_012_345_600_000_000_000+int64(i)*7919, 10) }

// loadLookupOrders makes sure the schema holds n orders, each linked to
// one instance of the fulfilment flow, and returns how long loading took
// (zero when they were there).
func loadLookupOrders(b *testing.B, base, dsn string, n int) time.Duration {
	b.Helper()
	ctx := context.WithoutCancel(b.Context())
	conn, err := pgx.Connect(ctx, base)
	require.NoError(b, err)
	defer conn.Close(ctx)
	var have int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM `+lookupSchema+`.order_instances`).Scan(&have)
	if err == nil && have == n && os.Getenv("CARDFLOW_BENCH_RELOAD") == "" {
		return 0
	}
	start := time.Now()
	_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+lookupSchema+` CASCADE; CREATE SCHEMA `+lookupSchema)
	require.NoError(b, err)
	s, err := postgres.Open(ctx, dsn, postgres.Options{Migrate: true})
	require.NoError(b, err)
	require.NoError(b, s.Close())
	_, err = conn.Exec(ctx, `SET search_path = `+lookupSchema)
	require.NoError(b, err)

	platforms := []string{"taobao", "jd", "pdd", "douyin"}
	shops := []string{"云栖旗舰店", "云栖茶具专营店", "云栖官方店"}
	statuses := []orders.Status{orders.StatusPaid, orders.StatusShipped, orders.StatusFinished, orders.StatusShipped}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	order := func(i int) orders.Order {
		at := t0.Add(time.Duration(i) * 29 * time.Second)
		o := orders.Order{Platform: platforms[i%len(platforms)], Shop: shops[i%len(shops)], No: lookupNo(i),
			Status: statuses[i%len(statuses)], PlatformStatus: "WAIT_BUYER_CONFIRM_GOODS",
			Total: 35_600, Paid: 33_400, Postage: 800, Discount: 3_000, Buyer: "李*", Province: "浙江省", City: "杭州市",
			Lines: []orders.Line{
				{SKU: "5001234567890", OuterSKU: "TEA-LJ-250", Title: "明前龙井 250g", Qty: 2, Price: 12_800, Paid: 11_800},
				{SKU: "5001234567891", OuterSKU: "CUP-01", Title: "玻璃杯", Qty: 1, Price: 10_000, Paid: 9_000},
			},
			CreatedAt: at, PaidAt: at.Add(time.Minute), UpdatedAt: at.Add(2 * time.Minute)}
		return o
	}
	copyRows := func(table string, cols []string, row func(i int) ([]any, error)) {
		i := 0
		_, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			return row(i - 1)
		}))
		require.NoError(b, err, table)
	}
	copyRows("orders", []string{"platform", "shop", "no", "status", "refund", "paid_fen", "updated_at", "doc"},
		func(i int) ([]any, error) {
			o := order(i)
			doc, err := json.Marshal(o)
			return []any{o.Platform, o.Shop, o.No, string(o.Status), string(o.Refund), int64(o.Paid), o.UpdatedAt, string(doc)}, err
		})
	inst := func(i int) string { return fmt.Sprintf("in_bench_%08d", i) }
	copyRows("instances", []string{"id", "flow_id", "flow_version", "status", "applicant", "title", "form", "state",
		"version", "created_at", "updated_at"}, func(i int) ([]any, error) {
		o := order(i)
		status := "completed"
		if o.Status == orders.StatusPaid {
			status = "running"
		}
		return []any{inst(i), "order_fulfilment", 1, status, "system", "订单履约 · " + o.No + " · " + o.Paid.String(),
			`{"order_no":"` + o.No + `"}`, `{}`, int64(3), o.PaidAt, o.UpdatedAt}, nil
	})
	copyRows("order_instances", []string{"platform", "shop", "no", "instance_id", "flow_id", "started_at"},
		func(i int) ([]any, error) {
			o := order(i)
			return []any{o.Platform, o.Shop, o.No, inst(i), "order_fulfilment", o.PaidAt}, nil
		})
	_, err = conn.Exec(ctx, `INSERT INTO definitions (flow_id, version, name, hash, source, created_at)
		VALUES ('order_fulfilment', 1, '订单履约', 'bench', '\x', now())`)
	require.NoError(b, err)
	_, err = conn.Exec(ctx, `ANALYZE`)
	require.NoError(b, err)
	took := time.Since(start)
	b.Logf("loaded %d orders, their instances and links in %s", n, took.Round(time.Second))
	return took
}
