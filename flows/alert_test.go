package flows_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// The oversell alert flow of configs/flows on the example org: the
// warehouse on call are u_feng and u_zheng; escalation level 1 is the
// warehouse head u_zheng (on call already), level 2 the GM u_wang;
// purchasing (u_jiang, u_wei) handle the alert once it is resolved.

func oversell(sku, warehouse string) map[string]any {
	return map[string]any{"sku": sku, "warehouse": warehouse, "platform": "jd", "oversold_qty": 3}
}

// alert sends a firing event and returns the oversell flow's result.
func (x *fx) alert(event string, form map[string]any, resolving bool) flows.Result {
	x.t.Helper()
	res, err := x.e.Alert(x.t.Context(), flows.AlertEvent{Source: "stock-sync", Event: event, Form: form, Resolving: resolving})
	require.NoError(x.t, err)
	require.Len(x.t, res, 1)
	require.Equal(x.t, "oversell_alert", res[0].Target)
	return res[0]
}

// pages returns "kind:recipient:cause:alert keys" of an instance's alert
// intents, in order.
func (x *fx) pages(inst string) []string {
	x.t.Helper()
	var out []string
	for _, n := range x.intents(inst) {
		if n.Kind != flows.NotifyAlertFired && n.Kind != flows.NotifyAlertAcknowledged &&
			n.Kind != flows.NotifyAlertResolved && n.Kind != flows.NotifyAlertEscalated {
			continue
		}
		s := n.Kind + ":" + n.Recipient + ":" + n.Cause + ":"
		for _, a := range n.Alerts {
			s += a.Key
			if a.Resolved {
				s += "(resolved)"
			}
			s += " "
		}
		out = append(out, s)
	}
	return out
}

func (x *fx) alertAct(op func(*flows.Engine) (flows.Result, error)) flows.Result {
	x.t.Helper()
	res, err := op(x.e)
	require.NoError(x.t, err)
	return res
}

func TestOversellAlertAcknowledgeResolve(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		first := x.alert("stock.oversell", oversell("SKU-1", "hz-1"), false)
		require.Equal(t, flows.AlertOpened, first.Outcome)
		inst := first.InstanceID
		require.Equal(t, []string{"page:u_feng", "page:u_zheng"}, x.open(inst))

		x.clock.Advance(time.Second)
		res := x.alert("stock.oversell", oversell("SKU-1", "hz-1"), false)
		require.Equal(t, flows.AlertDeduped, res.Outcome)
		require.Equal(t, inst, res.InstanceID, "a repeat is counted into the open alert")
		x.clock.Advance(time.Second)
		res = x.alert("stock.oversell", oversell("SKU-2", "hz-1"), false)
		require.Equal(t, flows.AlertGrouped, res.Outcome)
		require.Equal(t, inst, res.InstanceID, "same warehouse, same group")
		other := x.alert("stock.oversell", oversell("SKU-3", "bj-1"), false)
		require.Equal(t, flows.AlertOpened, other.Outcome)
		require.NotEqual(t, inst, other.InstanceID)

		x.clock.Advance(3*time.Second - time.Nanosecond) // group_wait is 5s
		require.Zero(t, x.fire("w"), "group_wait has not passed")
		require.Empty(t, x.pages(inst))
		x.clock.Advance(time.Nanosecond)
		require.Equal(t, 1, x.fire("w"))
		want := []string{"alert_fired:u_feng::SKU-1/hz-1 SKU-2/hz-1 ", "alert_fired:u_zheng::SKU-1/hz-1 SKU-2/hz-1 "}
		require.Equal(t, want, x.pages(inst), "one page for the group after group_wait")
		for _, n := range x.intents(inst) {
			if n.Alerts[0].Key == "SKU-1/hz-1" {
				require.Equal(t, 2, n.Alerts[0].Count)
			}
		}

		x.clock.Advance(55 * time.Second)
		x.clock.Advance(4 * time.Minute) // t0+5m: a new alert joins a paged group
		require.Equal(t, flows.AlertGrouped, x.alert("stock.oversell", oversell("SKU-4", "hz-1"), false).Outcome)
		x.clock.Advance(time.Minute)
		require.Equal(t, 2, x.fire("w"), "the other group's page, and the new alert's")
		want = append(want, "alert_fired:u_feng:new:SKU-1/hz-1 SKU-2/hz-1 SKU-4/hz-1 ", "alert_fired:u_zheng:new:SKU-1/hz-1 SKU-2/hz-1 SKU-4/hz-1 ")
		require.Equal(t, want, x.pages(inst))

		x.clock.Advance(9*time.Minute + 20*time.Second) // both groups' level 1: u_zheng, on call already
		require.Equal(t, 2, x.fire("w"))
		require.Equal(t, want, x.pages(inst))
		require.Contains(t, x.actions(inst), "alert_escalate:page")

		x.clock.Advance(5 * time.Minute)
		ack := x.alertAct(func(e *flows.Engine) (flows.Result, error) {
			return e.Acknowledge(t.Context(), flows.AlertActionRequest{Actor: "u_feng", TaskID: x.task(inst, "page", "u_feng").ID})
		})
		require.Equal(t, "acknowledge", ack.Outcome)
		want = append(want, "alert_acknowledged:u_zheng::SKU-1/hz-1 SKU-2/hz-1 SKU-4/hz-1 ")
		require.Equal(t, want, x.pages(inst))
		again, err := x.e.Acknowledge(t.Context(), flows.AlertActionRequest{Actor: "u_zheng", TaskID: x.task(inst, "page", "u_zheng").ID})
		require.NoError(t, err)
		require.True(t, again.AlreadyDecided)
		require.Equal(t, "u_feng", again.By)

		x.clock.Advance(3 * time.Hour) // past level 2 and the repeat: silenced by the ack
		x.fire("w")
		require.Equal(t, want, x.pages(inst))
		require.Equal(t, []string{"page:u_feng", "page:u_zheng"}, x.open(inst), "an ack pages nobody new")

		// One alert of the group clears by itself; the others still fire.
		res = x.alert("stock.restored", map[string]any{"sku": "SKU-1", "warehouse": "hz-1"}, false)
		require.Equal(t, flows.AlertResolved, res.Outcome)
		require.Equal(t, []string{"page:u_feng", "page:u_zheng"}, x.open(inst))

		x.alertAct(func(e *flows.Engine) (flows.Result, error) {
			return e.Resolve(t.Context(), flows.AlertActionRequest{Actor: "u_zheng", TaskID: x.task(inst, "page", "u_zheng").ID, Comment: "已补货"})
		})
		want = append(want, "alert_resolved:u_feng::SKU-1/hz-1(resolved) SKU-2/hz-1(resolved) SKU-4/hz-1(resolved) ")
		require.Equal(t, want, x.pages(inst))
		require.Equal(t, []string{"handle:u_jiang", "handle:u_wei"}, x.open(inst), "the flow goes on to purchasing")
		require.Equal(t, flows.TaskDone, x.last(inst, "page", "u_zheng").Status)
		require.Equal(t, "resolve", x.last(inst, "page", "u_feng").Outcome)
		x.checkInvariants(inst)

		// The group's alert is over: the same oversell again is a new alert.
		again2 := x.alert("stock.oversell", oversell("SKU-1", "hz-1"), false)
		require.Equal(t, flows.AlertOpened, again2.Outcome)
		require.NotEqual(t, inst, again2.InstanceID)
		require.Equal(t, flows.AlertIgnored, x.alert("stock.restored", map[string]any{"sku": "SKU-9", "warehouse": "hz-1"}, false).Outcome)

		// handle's SLA (4h, remind every 1h, escalate 2h later to the head of
		// purchasing, u_wei, who is on it already): u_jiang's task goes.
		x.clock.Advance(6 * time.Hour)
		x.fire("w")
		require.Equal(t, []string{"reminder:u_jiang", "reminder:u_wei"}, x.intentsOf(inst, flows.NotifyReminder))
		require.Equal(t, []string{"handle:u_wei"}, x.open(inst))
		require.Equal(t, "escalate", x.last(inst, "handle", "u_jiang").Outcome)
		x.checkInvariants(inst)
	})
}

func TestOversellAlertSnoozeEscalateAutoResolve(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.alert("stock.oversell", oversell("SKU-3", "bj-1"), false).InstanceID
		x.clock.Advance(time.Minute)
		require.Equal(t, 1, x.fire("w")) // the first page
		x.clock.Advance(14 * time.Minute)
		require.Equal(t, 1, x.fire("w")) // level 1: nobody new

		x.clock.Advance(25 * time.Minute) // t0+40m
		until := x.clock.Now().Add(30 * time.Minute)
		_, err := x.e.Snooze(t.Context(), flows.AlertActionRequest{Actor: "u_zheng", TaskID: x.task(inst, "page", "u_zheng").ID, Until: x.clock.Now()})
		require.ErrorIs(t, err, flows.ErrInvalidTarget, "a snooze ends in the future")
		x.alertAct(func(e *flows.Engine) (flows.Result, error) {
			return e.Snooze(t.Context(), flows.AlertActionRequest{Actor: "u_zheng", TaskID: x.task(inst, "page", "u_zheng").ID, Until: until})
		})
		// Another engine (a restart) fires the rest from the store.
		x = &fx{t: t, s: s, e: flows.NewEngine(s, flows.WithClock(x.clock.Now)), clock: x.clock}
		x.clock.Advance(25 * time.Minute) // t0+65m: level 2 was due at t0+1h
		require.Zero(t, x.fire("w"), "a snoozed alert does not escalate")
		x.clock.Advance(5 * time.Minute)
		require.Equal(t, 1, x.fire("w"), "the snooze ends")
		require.Equal(t, 1, x.fire("w"), "and level 2, overdue, pages at once")
		require.Equal(t, []string{
			"alert_fired:u_feng::SKU-3/bj-1 ", "alert_fired:u_zheng::SKU-3/bj-1 ",
			"alert_fired:u_feng:snoozed:SKU-3/bj-1 ", "alert_fired:u_zheng:snoozed:SKU-3/bj-1 ",
			"alert_escalated:u_wang::SKU-3/bj-1 ",
		}, x.pages(inst))
		require.Equal(t, []string{"page:u_feng", "page:u_wang", "page:u_zheng"}, x.open(inst))

		x.clock.Advance(2 * time.Hour) // unacknowledged: the page repeats
		require.Equal(t, 1, x.fire("w"))
		require.Len(t, x.pages(inst), 8)
		require.Equal(t, "alert_fired:u_wang:repeat:SKU-3/bj-1 ", x.pages(inst)[7])

		res := x.alert("stock.restored", map[string]any{"sku": "SKU-3", "warehouse": "bj-1"}, false)
		require.Equal(t, flows.AlertResolved, res.Outcome)
		require.Equal(t, []string{"handle:u_jiang", "handle:u_wei"}, x.open(inst))
		require.Equal(t, []string{
			"alert_resolved:u_feng::SKU-3/bj-1(resolved) ", "alert_resolved:u_zheng::SKU-3/bj-1(resolved) ",
			"alert_resolved:u_wang::SKU-3/bj-1(resolved) ",
		}, x.pages(inst)[8:])
		require.Contains(t, x.actions(inst), "auto_resolve:page")
		x.clock.Advance(24 * time.Hour)
		x.fire("w") // the handle step's SLA timers; none of the alert's
		require.Len(t, x.pages(inst), 11, "the alert's timers ended with it")
		x.checkInvariants(inst)
	})
}

func TestAlertEvents(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		ev := flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell", Form: oversell("SKU-7", "gz-1"), IdempotencyKey: "evt-1"}
		first, err := x.e.Alert(t.Context(), ev)
		require.NoError(t, err)
		replay, err := x.e.Alert(t.Context(), ev)
		require.NoError(t, err)
		require.True(t, replay[0].Replayed)
		require.Equal(t, first[0].InstanceID, replay[0].InstanceID)
		require.Equal(t, []string{"start", "alert_fire:page"}, x.actions(first[0].InstanceID), "a redelivered event counts once")

		_, err = x.e.Alert(t.Context(), flows.AlertEvent{Event: "stock.oversell", Form: map[string]any{"sku": "SKU-7"}})
		require.ErrorIs(t, err, flows.ErrInvalidForm)
		none, err := x.e.Alert(t.Context(), flows.AlertEvent{Event: "order.created", Form: map[string]any{}})
		require.NoError(t, err)
		require.Empty(t, none, "no alert flow listens to it")

		// Two engines fire the same new group at once: one instance.
		y, z := newFx(t, s), newFx(t, s)
		var wg sync.WaitGroup
		results := make([][]flows.Result, 2)
		errs := make([]error, 2)
		for i, e := range []*flows.Engine{y.e, z.e} {
			wg.Go(func() {
				results[i], errs[i] = e.Alert(t.Context(), flows.AlertEvent{Event: "stock.oversell", Form: oversell("SKU-8", "sz-1")})
			})
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, results[0][0].InstanceID, results[1][0].InstanceID)
		require.ElementsMatch(t, []string{flows.AlertOpened, flows.AlertDeduped}, []string{results[0][0].Outcome, results[1][0].Outcome})
	})
}

// A timer claimed by a stalled engine and rewritten meanwhile (here a
// snooze moved) must neither act nor delete the rewritten timer.
func TestAlertTimerSuperseded(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		slow := &slowClaims{Store: s, claimed: make(chan struct{}), release: make(chan struct{})}
		stalled := flows.NewEngine(slow, flows.WithClock(x.clock.Now))
		inst := x.alert("stock.oversell", oversell("SKU-5", "cd-1"), false).InstanceID
		x.clock.Advance(time.Minute)
		require.Equal(t, 1, x.fire("w"))
		snooze := func(until time.Duration) {
			x.alertAct(func(e *flows.Engine) (flows.Result, error) {
				return e.Snooze(t.Context(), flows.AlertActionRequest{Actor: "u_feng", TaskID: x.task(inst, "page", "u_feng").ID, Until: t0.Add(until)})
			})
		}
		snooze(10 * time.Minute)
		x.clock.Advance(9 * time.Minute) // t0+10m: the snooze ends

		done := make(chan error)
		go func() {
			_, err := stalled.FireDueTimers(t.Context(), "stalled", 10)
			done <- err
		}()
		<-slow.claimed
		snooze(30 * time.Minute) // u_feng snoozes again before the wake was fired
		close(slow.release)
		require.NoError(t, <-done)
		require.Len(t, x.pages(inst), 2, "the stale wake paged nobody")

		x.clock.Advance(20 * time.Minute)
		require.Equal(t, 1, x.fire("w"), "the moved wake is still there")
		require.Equal(t, []string{"alert_fired:u_feng:snoozed:SKU-5/cd-1 ", "alert_fired:u_zheng:snoozed:SKU-5/cd-1 "}, x.pages(inst)[2:])
	})
}

func TestAlertTimersFollowTheSLAScale(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s, flows.WithSLAScale(60))
		inst := x.alert("stock.oversell", oversell("SKU-1", "hz-1"), false).InstanceID
		x.clock.Advance(80 * time.Millisecond)
		require.Zero(t, x.fire("w"), "a 5s group_wait takes 83ms at scale 60")
		x.clock.Advance(5 * time.Millisecond)
		require.Equal(t, 1, x.fire("w"))
		require.Len(t, x.pages(inst), 2)
	})
}
