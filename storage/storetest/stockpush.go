package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/stock"
	"cardflow/flows"
)

// The StockPush group checks stock.PushStore, which every flows.Store
// under test must implement as well. The store stamps changes with its own
// clock (now() on PostgreSQL), so the tests claim a minute ahead of the
// wall clock, where every change is due. Where the contract leaves a
// choice, the suite pins:
//   - Claimed rows come back longest due first, then by SKU.
//   - A change to a row in backoff (attempts > 0) keeps its next time; a
//     change to any other row makes it due.
func stockPushTests(count CountRowsFunc) []suiteTest {
	return []suiteTest{
		pushTest("a movement upserts one coalesced row per target", testPushCoalesce),
		pushTest("a new target starts from every SKU's stock", testPushRegisterSeeds),
		pushTest("a claimed row is nobody else's until its lease ends", testPushLease),
		pushTest("a row is done only if its version is unchanged", testPushDoneIfUnchanged),
		pushTest("a failure backs the row off", testPushBackoff),
		pushTest("a target's outage", testPushOutage),
		pushTest("race: concurrent claims never share a row", testPushClaimRace),
		pushTest("race: concurrent movements of a SKU in two warehouses sum right", testPushSumRace),
		suiteTest{name: "no target, no rows", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			applyOK(t, asStockStore(t, s), NewMovement("wms-1", stock.KindSet, 3, 0), true)
			require.Zero(t, count(t, s, "stock_pushes"))
		}},
	}
}

// pushTest adapts a test of a stock.Store that is a stock.PushStore.
func pushTest(name string, fn func(t *testing.T, s stock.Store, ps stock.PushStore)) suiteTest {
	return storeTest(name, func(t *testing.T, s flows.Store) {
		ps, ok := s.(stock.PushStore)
		require.True(t, ok, "%T must implement stock.PushStore as well", s)
		fn(t, asStockStore(t, s), ps)
	})
}

// ahead is a claim's time: after every change the store stamped so far.
func ahead() time.Time { return time.Now().Add(time.Minute) }

func claim(t *testing.T, ps stock.PushStore, target, token string, now time.Time) []stock.Push {
	t.Helper()
	got, err := ps.ClaimPushes(t.Context(), stock.ClaimPushParams{Target: target, Token: token, Now: now,
		Lease: time.Minute, Limit: 10})
	require.NoError(t, err)
	for i := range got {
		require.Equal(t, time.UTC, got[i].ChangedAt.Location(), "ChangedAt must come back in UTC")
		require.False(t, got[i].ChangedAt.IsZero())
		got[i].ChangedAt = time.Time{}
	}
	return got
}

func move(sku, warehouse, id string, kind stock.Kind, qty int64) stock.Movement {
	return stock.Movement{Source: "wms", EventID: id, SKU: sku, Warehouse: warehouse, Kind: kind, Qty: qty, At: At(0)}
}

func testPushCoalesce(t *testing.T, s stock.Store, ps stock.PushStore) {
	require.NoError(t, ps.RegisterPushTargets(t.Context(), []string{"shop", "wms"}))
	applyOK(t, s, move("TEA", "hz-1", "1", stock.KindSet, 10), true)
	applyOK(t, s, move("TEA", "bj-1", "2", stock.KindSet, 5), true)
	applyOK(t, s, move("TEA", "hz-1", "3", stock.KindReserve, 3), true)
	applyOK(t, s, move("TEA", "hz-1", "3", stock.KindReserve, 3), false) // a repeat changes nothing
	applyOK(t, s, move("CUP", "hz-1", "4", stock.KindReceive, 1), true)
	now := ahead()
	for _, target := range []string{"shop", "wms"} {
		require.Equal(t, []stock.Push{
			{Target: target, SKU: "CUP", Sellable: 1, Version: 1},
			{Target: target, SKU: "TEA", Sellable: 12, Version: 3},
		}, sortPushes(claim(t, ps, target, "t-"+target, now)), target)
	}
	require.Empty(t, claim(t, ps, "other", "t", now), "an unregistered target has nothing")
}

func testPushRegisterSeeds(t *testing.T, s stock.Store, ps stock.PushStore) {
	applyOK(t, s, move("TEA", "hz-1", "1", stock.KindSet, 10), true)
	applyOK(t, s, move("TEA", "bj-1", "2", stock.KindSet, 5), true)
	require.NoError(t, ps.RegisterPushTargets(t.Context(), []string{"shop"}))
	require.NoError(t, ps.RegisterPushTargets(t.Context(), []string{"shop"}), "registering again changes nothing")
	now := ahead()
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: 15, Version: 1}}, claim(t, ps, "shop", "a", now))
}

func testPushLease(t *testing.T, s stock.Store, ps stock.PushStore) {
	require.NoError(t, ps.RegisterPushTargets(t.Context(), []string{"shop"}))
	applyOK(t, s, move("TEA", "hz-1", "1", stock.KindSet, 10), true)
	now := ahead()
	require.Len(t, claim(t, ps, "shop", "a", now), 1)
	require.Empty(t, claim(t, ps, "shop", "b", now), "leased to a")
	require.Empty(t, claim(t, ps, "shop", "b", now.Add(59*time.Second)), "leased to a")
	// b's retry and completion of a's claim do not release it.
	require.NoError(t, ps.RetryPush(t.Context(), stock.RetryPushParams{Target: "shop", SKU: "TEA", Token: "b",
		Attempts: 7, NextAt: now}))
	require.Empty(t, claim(t, ps, "shop", "b", now), "still leased to a")
	got := claim(t, ps, "shop", "b", now.Add(time.Minute))
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: 10, Version: 1}}, got, "a's lease ended")
}

func testPushDoneIfUnchanged(t *testing.T, s stock.Store, ps stock.PushStore) {
	ctx := t.Context()
	require.NoError(t, ps.RegisterPushTargets(ctx, []string{"shop"}))
	applyOK(t, s, move("TEA", "hz-1", "1", stock.KindSet, 10), true)
	now := ahead()
	got := claim(t, ps, "shop", "a", now)
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: 10, Version: 1}}, got)

	// A change while the push is in flight: the delivered version is
	// recorded, and the row stays pending with the newer one, due now.
	applyOK(t, s, move("TEA", "hz-1", "2", stock.KindShip, 4), true)
	pending, err := ps.CompletePush(ctx, stock.CompletePushParams{Target: "shop", SKU: "TEA", Version: 1, Token: "a", Now: now})
	require.NoError(t, err)
	require.True(t, pending)
	got = claim(t, ps, "shop", "b", now)
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: 6, Version: 2}}, got)

	pending, err = ps.CompletePush(ctx, stock.CompletePushParams{Target: "shop", SKU: "TEA", Version: 2, Token: "b", Now: now})
	require.NoError(t, err)
	require.False(t, pending)
	require.Empty(t, claim(t, ps, "shop", "c", now.Add(time.Hour)), "done")

	// A late completion of an older version does not undo a newer one.
	pending, err = ps.CompletePush(ctx, stock.CompletePushParams{Target: "shop", SKU: "TEA", Version: 1, Token: "a", Now: now})
	require.NoError(t, err)
	require.False(t, pending)

	// The next change is version 3.
	applyOK(t, s, move("TEA", "bj-1", "3", stock.KindReceive, 1), true)
	got = claim(t, ps, "shop", "d", ahead())
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: 7, Version: 3}}, got)
}

func testPushBackoff(t *testing.T, s stock.Store, ps stock.PushStore) {
	ctx := t.Context()
	require.NoError(t, ps.RegisterPushTargets(ctx, []string{"shop"}))
	applyOK(t, s, move("TEA", "hz-1", "1", stock.KindSet, 10), true)
	now := ahead()
	require.Len(t, claim(t, ps, "shop", "a", now), 1)
	require.NoError(t, ps.RetryPush(ctx, stock.RetryPushParams{Target: "shop", SKU: "TEA", Token: "a",
		Attempts: 1, NextAt: now.Add(10 * time.Second)}))
	require.Empty(t, claim(t, ps, "shop", "b", now), "backing off")

	// A change during the backoff keeps it.
	applyOK(t, s, move("TEA", "hz-1", "2", stock.KindSet, 8), true)
	require.Empty(t, claim(t, ps, "shop", "b", now.Add(10*time.Second-time.Microsecond)), "still backing off")
	got := claim(t, ps, "shop", "b", now.Add(10*time.Second))
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: 8, Version: 2, Attempts: 1}}, got)

	require.NoError(t, ps.RetryPush(ctx, stock.RetryPushParams{Target: "shop", SKU: "TEA", Token: "b",
		Attempts: 2, NextAt: now.Add(time.Minute)}))
	got = claim(t, ps, "shop", "c", now.Add(time.Minute))
	require.Equal(t, 2, got[0].Attempts)
	pending, err := ps.CompletePush(ctx, stock.CompletePushParams{Target: "shop", SKU: "TEA", Version: 2, Token: "c",
		Now: now.Add(time.Minute)})
	require.NoError(t, err)
	require.False(t, pending)

	// Success resets the attempts: the next change is due at once.
	applyOK(t, s, move("TEA", "hz-1", "3", stock.KindSet, 9), true)
	got = claim(t, ps, "shop", "d", ahead())
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: 9, Version: 3}}, got)
}

func testPushOutage(t *testing.T, _ stock.Store, ps stock.PushStore) {
	ctx := t.Context()
	require.NoError(t, ps.RegisterPushTargets(ctx, []string{"shop"}))
	o, err := ps.PushTargetRecovered(ctx, "shop")
	require.NoError(t, err)
	require.Zero(t, o, "no outage")
	for i := range 3 {
		o, err = ps.PushTargetFailed(ctx, "shop", At(time.Duration(i)*time.Minute))
		require.NoError(t, err)
		require.Equal(t, stock.PushOutage{Failures: i + 1, Since: At(0).UTC()}, o)
	}
	o, err = ps.PushTargetRecovered(ctx, "shop")
	require.NoError(t, err)
	require.Equal(t, stock.PushOutage{Failures: 3, Since: At(0).UTC()}, o)
	o, err = ps.PushTargetRecovered(ctx, "shop")
	require.NoError(t, err)
	require.Zero(t, o)
	o, err = ps.PushTargetFailed(ctx, "shop", At(time.Hour))
	require.NoError(t, err)
	require.Equal(t, stock.PushOutage{Failures: 1, Since: At(time.Hour).UTC()}, o, "a new outage")
}

func testPushClaimRace(t *testing.T, s stock.Store, ps stock.PushStore) {
	const skus, claimers = 40, 8
	require.NoError(t, ps.RegisterPushTargets(t.Context(), []string{"shop"}))
	for i := range skus {
		applyOK(t, s, move(fmt.Sprint("SKU-", i), "hz-1", fmt.Sprint(i), stock.KindSet, int64(i)), true)
	}
	now := ahead()
	got := make([][]stock.Push, claimers)
	errs := race(claimers, func(i int) error {
		var err error
		got[i], err = ps.ClaimPushes(t.Context(), stock.ClaimPushParams{Target: "shop", Token: fmt.Sprint("c", i),
			Now: now, Lease: time.Minute, Limit: 7})
		return err
	})
	seen := map[string]int{}
	for i, err := range errs {
		require.NoError(t, err)
		for _, p := range got[i] {
			if j, ok := seen[p.SKU]; ok {
				t.Fatalf("%s claimed by %d and %d", p.SKU, j, i)
			}
			seen[p.SKU] = i
		}
	}
	require.Len(t, seen, min(skus, claimers*7))
}

func testPushSumRace(t *testing.T, s stock.Store, ps stock.PushStore) {
	const n = 16
	require.NoError(t, ps.RegisterPushTargets(t.Context(), []string{"shop"}))
	// Movements of one SKU race in n warehouses: a sum read before another
	// warehouse's change committed would leave the row short.
	errs := race(n, func(i int) error {
		_, _, _, err := s.ApplyMovement(t.Context(), move("TEA", fmt.Sprint("w-", i), fmt.Sprint(i), stock.KindReceive, int64(i+1)))
		return err
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	got := claim(t, ps, "shop", "a", ahead())
	require.Equal(t, []stock.Push{{Target: "shop", SKU: "TEA", Sellable: n * (n + 1) / 2, Version: n}}, got)
}

// sortPushes orders pushes by SKU, for tests where they were due at once.
func sortPushes(list []stock.Push) []stock.Push {
	slices.SortFunc(list, func(a, b stock.Push) int { return strings.Compare(a.SKU, b.SKU) })
	return list
}
