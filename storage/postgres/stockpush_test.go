package postgres

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/config"
	"cardflow/storage/postgres/pgtest"
)

// TestTwoPushersShareTheOutbox runs two pushers, each on its own store (two
// instances), against one database while movements keep coming: no row is
// pushed by both at once, no version is delivered twice, and every SKU's
// last delivery is its final quantity.
func TestTwoPushersShareTheOutbox(t *testing.T) {
	t.Parallel()
	const skus, extra = 60, 40
	dsn := pgtest.SchemaDSN(t)
	var stores [2]*Store
	for i := range stores {
		s, err := Open(t.Context(), dsn, Options{Migrate: i == 0, MaxConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		stores[i] = s
	}
	const secret = "push-signing-secret-0123"
	var (
		mu       sync.Mutex
		inFlight = map[string]bool{}
		seen     = map[string]int{} // sku/version → deliveries
		last     = map[string][2]int64{}
		overlaps []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := orders.Verify(r.Header, body, []byte(secret), time.Now()); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p struct {
			SKU      string `json:"sku"`
			Sellable int64  `json:"sellable"`
			Version  int64  `json:"version"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		if inFlight[p.SKU] {
			overlaps = append(overlaps, p.SKU)
		}
		inFlight[p.SKU] = true
		mu.Unlock()
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			inFlight[p.SKU] = false
			seen[fmt.Sprint(p.SKU, "/", p.Version)]++
			if p.Version > last[p.SKU][0] {
				last[p.SKU] = [2]int64{p.Version, p.Sellable}
			}
		}()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	target := stock.PushTarget{Name: "shop", URL: config.Secret(srv.URL), Secret: secret}
	ahead := func() time.Time { return time.Now().Add(time.Minute) }
	var pushers [2]*stock.Pusher
	for i, s := range stores {
		pushers[i] = stock.NewPusher(s, []stock.PushTarget{target}, stock.PushOptions{Batch: 5, Client: srv.Client()},
			slog.New(slog.DiscardHandler), ahead)
	}
	ctx := t.Context()
	// set and the goroutines report with t.Error: require may not stop
	// the test from another goroutine.
	set := func(s *Store, sku string, id int, qty int64) {
		_, _, _, err := s.ApplyMovement(ctx, stock.Movement{Source: "wms", EventID: fmt.Sprint(id), SKU: sku,
			Warehouse: "hz-1", Kind: stock.KindSet, Qty: qty, At: time.Now()})
		if err != nil {
			t.Error(err)
		}
	}
	for i := range skus {
		set(stores[i%2], fmt.Sprint("SKU-", i), i, int64(i))
	}
	// Both register at once: the target and its seed are written once.
	var wg sync.WaitGroup
	for _, p := range pushers {
		wg.Go(func() {
			if err := p.Register(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	moved := make(chan struct{})
	wg.Go(func() {
		defer close(moved)
		for i := range extra {
			set(stores[i%2], fmt.Sprint("SKU-", i%7), skus+i, int64(1000+i))
		}
	})
	for _, p := range pushers {
		wg.Go(func() {
			for {
				select {
				case <-moved:
					// Drain what the last movements left.
					for {
						n, err := p.PushOnce(ctx)
						if err != nil || n == 0 {
							if err != nil {
								t.Error(err)
							}
							return
						}
					}
				default:
				}
				if _, err := p.PushOnce(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, p := range pushers { // both drained; nothing may be left
		n, err := p.PushOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	}

	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, overlaps, "a row pushed by both pushers at once")
	for key, n := range seen {
		require.Equal(t, 1, n, "%s delivered %d times", key, n)
	}
	require.Len(t, last, skus)
	for i := range skus {
		want := int64(i)
		for j := range extra { // the last extra movement of SKU-i, if any
			if j%7 == i {
				want = int64(1000 + j)
			}
		}
		require.Equal(t, want, last[fmt.Sprint("SKU-", i)][1], "SKU-%d's final quantity", i)
	}
}

// BenchmarkApplyMovementPush measures what the push outbox adds to a
// movement: the upsert of its SKU's row per registered target and the
// sum over warehouses.
func BenchmarkApplyMovementPush(b *testing.B) {
	for _, targets := range [][]string{nil, {"shop", "wms"}} {
		b.Run(fmt.Sprint(len(targets), " targets"), func(b *testing.B) {
			s := openTestStore(b, Options{MaxConns: 4})
			if targets != nil {
				require.NoError(b, s.RegisterPushTargets(b.Context(), targets))
			}
			i := 0
			for b.Loop() {
				_, _, _, err := s.ApplyMovement(b.Context(), stock.Movement{Source: "wms", EventID: fmt.Sprint(i),
					SKU: fmt.Sprint("SKU-", i%100), Warehouse: fmt.Sprint("w-", i%3), Kind: stock.KindReceive, Qty: 1,
					At: time.Now()})
				require.NoError(b, err)
				i++
			}
		})
	}
}
