package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/flows"
	"cardflow/outbox"
	"cardflow/server/apitoken"
)

func unavailableTests() []suiteTest {
	return []suiteTest{
		storeTest("every method of a closed store", testClosedStore),
	}
}

// Call is one call of a store method with fixed arguments, for tests that
// check how every method fails.
type Call struct {
	Name string
	Do   func(ctx context.Context) error
}

// Calls returns a call of every method of s that reaches the database:
// every flows.Store method but Close, and the outbox.Pruner, orders.Store,
// stock.Store and apitoken.Store methods.
func Calls(s flows.Store) []Call {
	inst := NewInstance("i-calls")
	calls := []Call{
		{"Apply", func(ctx context.Context) error {
			_, err := s.Apply(ctx, StartChange(inst, NewTask(inst.ID, "i-calls-t1", "u-bob")))
			return err
		}},
		{"Instance", func(ctx context.Context) error { _, err := s.Instance(ctx, "i-1"); return err }},
		{"Instances", func(ctx context.Context) error { _, err := s.Instances(ctx, flows.InstanceFilter{}); return err }},
		{"Task", func(ctx context.Context) error { _, err := s.Task(ctx, "t-1"); return err }},
		{"Tasks", func(ctx context.Context) error {
			_, err := s.Tasks(ctx, flows.TaskFilter{Assignee: "u-bob"})
			return err
		}},
		{"Audit", func(ctx context.Context) error { _, err := s.Audit(ctx, "i-1"); return err }},
		{"Idempotent", func(ctx context.Context) error { _, err := s.Idempotent(ctx, "k"); return err }},
		{"PutDefinition", func(ctx context.Context) error {
			_, _, err := s.PutDefinition(ctx, NewDefinition("f-calls", "steps: []"))
			return err
		}},
		{"Definition", func(ctx context.Context) error { _, err := s.Definition(ctx, "f", 1); return err }},
		{"LatestDefinition", func(ctx context.Context) error { _, err := s.LatestDefinition(ctx, "f"); return err }},
		{"Definitions", func(ctx context.Context) error { _, err := s.Definitions(ctx); return err }},
		{"ReplaceOrg", func(ctx context.Context) error { return s.ReplaceOrg(ctx, SampleOrg()) }},
		{"User", func(ctx context.Context) error { _, err := s.User(ctx, "u-bob"); return err }},
		{"UserByPlatformID", func(ctx context.Context) error {
			_, err := s.UserByPlatformID(ctx, "feishu", "ou_bob")
			return err
		}},
		{"UsersWithRole", func(ctx context.Context) error { _, err := s.UsersWithRole(ctx, "finance"); return err }},
		{"Department", func(ctx context.Context) error { _, err := s.Department(ctx, "d-fin"); return err }},
		{"PendingOutbox", func(ctx context.Context) error { _, err := s.PendingOutbox(ctx, 10); return err }},
		{"MarkOutboxSent", func(ctx context.Context) error { return s.MarkOutboxSent(ctx, []int64{1}) }},
		{"OutboxBacklog", func(ctx context.Context) error { _, _, err := s.OutboxBacklog(ctx); return err }},
		{"ClaimTimers", func(ctx context.Context) error {
			_, err := s.ClaimTimers(ctx, BaseTime, "h", time.Minute, 10)
			return err
		}},
		{"AcquireLease", func(ctx context.Context) error {
			_, err := s.AcquireLease(ctx, "l", "h", BaseTime, time.Minute)
			return err
		}},
		{"ReleaseLease", func(ctx context.Context) error { return s.ReleaseLease(ctx, "l", "h") }},
		{"Ping", func(ctx context.Context) error { return s.Ping(ctx) }},
	}
	if p, ok := s.(outbox.Pruner); ok {
		calls = append(calls,
			Call{"PruneSentOutbox", func(ctx context.Context) error {
				_, err := p.PruneSentOutbox(ctx, BaseTime, 10)
				return err
			}},
			Call{"PruneIdempotency", func(ctx context.Context) error {
				_, err := p.PruneIdempotency(ctx, BaseTime, 10)
				return err
			}},
		)
	}
	if o, ok := s.(orders.Store); ok {
		e := orders.OrderEvent("erp", NewOrder("jd", "v-1", "5001", BaseTime), BaseTime)
		calls = append(calls,
			Call{"IngestOrderEvent", func(ctx context.Context) error {
				_, _, err := o.IngestOrderEvent(ctx, "erp", e)
				return err
			}},
			Call{"OrdersByNo", func(ctx context.Context) error { _, err := o.OrdersByNo(ctx, "5001"); return err }},
			Call{"UnroutedOrderEvents", func(ctx context.Context) error {
				_, err := o.UnroutedOrderEvents(ctx, 10)
				return err
			}},
			Call{"MarkOrderEventRouted", func(ctx context.Context) error {
				return o.MarkOrderEventRouted(ctx, "erp", e.ID, BaseTime)
			}},
		)
	}
	if st, ok := s.(stock.Store); ok {
		calls = append(calls,
			Call{"ApplyMovement", func(ctx context.Context) error {
				_, _, _, err := st.ApplyMovement(ctx, NewMovement("wms-calls", stock.KindReceive, 1, 0))
				return err
			}},
			Call{"StockOf", func(ctx context.Context) error { _, err := st.StockOf(ctx, "TEA-LJ-250"); return err }},
		)
	}
	if ts, ok := s.(apitoken.Store); ok {
		tok := NewToken("tok_calls", 0)
		calls = append(calls,
			Call{"CreateAPIToken", func(ctx context.Context) error { return ts.CreateAPIToken(ctx, tok) }},
			Call{"APIToken", func(ctx context.Context) error { _, err := ts.APIToken(ctx, tok.ID); return err }},
			Call{"APITokens", func(ctx context.Context) error { _, err := ts.APITokens(ctx); return err }},
			Call{"RevokeAPIToken", func(ctx context.Context) error { _, err := ts.RevokeAPIToken(ctx, tok.ID, BaseTime); return err }},
			Call{"TouchAPIToken", func(ctx context.Context) error {
				_, err := ts.TouchAPIToken(ctx, tok.ID, BaseTime, time.Minute)
				return err
			}},
		)
	}
	return calls
}

// testClosedStore checks that a call racing a shutdown, which finds the
// store closed, fails as unavailable (503, try again) rather than as an
// internal error, and that each error is wrapped once.
func testClosedStore(t *testing.T, s flows.Store) {
	require.NoError(t, s.Close())
	for _, c := range Calls(s) {
		err := c.Do(t.Context())
		require.ErrorIs(t, err, flows.ErrUnavailable, c.Name)
		RequireWrappedOnce(t, err)
	}
}

// RequireWrappedOnce fails when err's text repeats a layer's prefix, as in
// "postgres: apply change: postgres: idempotency key ...", or says "store
// unavailable" twice.
func RequireWrappedOnce(t testing.TB, err error) {
	t.Helper()
	msg := err.Error()
	for _, layer := range []string{": postgres: ", ": sqlite: "} {
		require.NotContains(t, msg, layer, "a store error wrapped twice")
	}
	require.LessOrEqual(t, strings.Count(msg, flows.ErrUnavailable.Error()), 1, "%q says unavailable twice", msg)
}
