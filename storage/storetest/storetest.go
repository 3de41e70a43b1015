// Package storetest is the one conformance suite every flows.Store must
// pass. A store's own test calls Run with a constructor of fresh, empty,
// migrated stores; the suite checks every method against the contract's doc
// comments, including atomicity (a failed Change writes nothing) and
// behaviour under concurrency. The fixture builders and Require* helpers
// are exported so stores and the flow engine can reuse them in their own
// tests.
//
// Where flows.Store's comments leave a choice open, the suite pins the
// reading both stores implement:
//   - Apply checks the idempotency key before anything else, so a replay is
//     answered with *flows.DuplicateError even after the instance moved on.
//   - Apply with Create of an instance id that already exists fails with
//     flows.ErrStaleVersion (the caller expected no instance, i.e. version 0).
//   - Apply returns a zero flows.Applied with any error.
//   - Under a race on one key, the losers may see flows.ErrDuplicate (with
//     the winner's result) or the version/task conflict the winner caused.
//   - A NewTask whose id exists, or an outbox message whose Key exists, fails
//     the whole Change with some error (outbox keys are unique).
//   - Times come back in UTC, equal to the written instant to the
//     millisecond; zero times come back zero; JSON may be re-encoded; empty
//     JSON comes back empty; nil and empty lists and maps are equal; a user's
//     roles are a set.
//   - ClaimTimers hands out the earliest-due timers first and returns them
//     ordered by due time, then id; a rescheduled timer (same id) is free of
//     any lease the old one had.
//   - ReplaceOrg rejects an org with a duplicate user id or a platform user id
//     mapped to two users, and then keeps the old org.
//   - PutDefinition is safe to call concurrently with the same definition
//     (several servers loading the same flow files at start-up).
package storetest

import (
	"testing"

	"cardflow/flows"
)

// NewStoreFunc returns a fresh, empty, isolated and migrated store and
// registers its own cleanup (closing it, dropping its schema or file).
type NewStoreFunc func(t *testing.T) flows.Store

// suiteTest is one test of the suite. Most tests need one store and are
// written as storeTest; tests whose table cases each need their own store
// take the constructor.
type suiteTest struct {
	name string
	run  func(t *testing.T, newStore NewStoreFunc)
}

// storeTest adapts a test of one store to a suiteTest.
func storeTest(name string, fn func(t *testing.T, s flows.Store)) suiteTest {
	return suiteTest{name: name, run: func(t *testing.T, newStore NewStoreFunc) { fn(t, newStore(t)) }}
}

// Run runs the conformance suite, every test in parallel on its own store
// from newStore. Stores must also implement outbox.Pruner, bot.Store,
// orders.Store, stock.Store, stock.PushStore, kpi.Store, apitoken.Store,
// flows.AnalyticsReader and console.Store;
// countRows lets the prune, order, stock, stock push and KPI tests count the
// rows of the tables they write.
func Run(t *testing.T, newStore func(t *testing.T) flows.Store, countRows CountRowsFunc) {
	t.Helper()
	groups := []struct {
		name  string
		tests []suiteTest
	}{
		{name: "Apply", tests: applyTests()},
		{name: "TaskUpdate", tests: taskUpdateTests()},
		{name: "Idempotency", tests: idempotencyTests()},
		{name: "Rollback", tests: rollbackTests()},
		{name: "Concurrency", tests: concurrencyTests()},
		{name: "Query", tests: queryTests()},
		{name: "Pages", tests: pageTests()},
		{name: "Definition", tests: definitionTests()},
		{name: "Org", tests: orgTests()},
		{name: "Proxy", tests: proxyTests()},
		{name: "Outbox", tests: outboxTests()},
		{name: "Timer", tests: timerTests()},
		{name: "Lease", tests: leaseTests()},
		{name: "Bot", tests: botTests()},
		{name: "Orders", tests: ordersTests(countRows)},
		{name: "Stock", tests: stockTests(countRows)},
		{name: "KPI", tests: kpiTests(countRows)},
		{name: "Token", tests: tokenTests()},
		{name: "OrderInstances", tests: orderInstanceTests(countRows)},
		{name: "StockPush", tests: stockPushTests(countRows)},
		{name: "Prune", tests: pruneTests(countRows)},
		{name: "Retention", tests: retentionTests(countRows)},
		{name: "Analytics", tests: analyticsTests()},
		{name: "Unavailable", tests: unavailableTests()},
		{name: "Count", tests: countTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, newStore)
				})
			}
		})
	}
}
