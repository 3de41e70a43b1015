package flows_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/internal/testclock"
)

// slaFlows are the flows of the timer tests, registered per store: u_qian
// (and u_sun) approve s with an SLA of 1h; u_feng then does next.
var slaFlows = map[string]string{
	"sla_escalate": slaFlow("sla_escalate", "[{user: u_qian}]", "sign: any",
		"{escalate_after: 30m, escalate_to: {role: finance_lead}}"),
	"sla_vacant": slaFlow("sla_vacant", "[{user: u_qian}]", "sign: any",
		"{escalate_to: {role: ghost}}"),
	"sla_approve": slaFlow("sla_approve", "[{user: u_qian}, {user: u_sun}]", "sign: all",
		"{auto_action_after: 1h, auto_action: approve}"),
	"sla_reject": slaFlow("sla_reject", "[{user: u_qian}, {user: u_sun}]", "sign: all",
		"{auto_action: reject}"),
}

func slaFlow(id, users, sign, timeout string) string {
	return joinLines(
		"id: "+id,
		"name: SLA "+id,
		"form: [{key: note, type: string}]",
		"steps:",
		"  - {id: s, name: 审批, type: approval, assignees: "+users+", "+sign+", sla: 1h, on_timeout: "+timeout+"}",
		"  - {id: next, name: 办理, type: task, assignees: {user: u_feng}}",
	)
}

// register parses and registers test flows on the fixture's store.
func (x *fx) register(srcs map[string]string) {
	x.t.Helper()
	for name, src := range srcs {
		f, err := flows.ParseFlow(name+".yaml", []byte(src))
		require.NoError(x.t, err)
		_, err = x.e.Register(x.t.Context(), f)
		require.NoError(x.t, err)
	}
}

// fire runs one FireDueTimers call as holder and returns how many fired.
func (x *fx) fire(holder string) int {
	x.t.Helper()
	n, err := x.e.FireDueTimers(x.t.Context(), holder, 100)
	require.NoError(x.t, err)
	return n
}

func TestTimerRemind(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("sign_any", "u_wu", nil) // sla 2h, remind every 1h
		x.clock.Advance(2*time.Hour - time.Second)
		require.Zero(t, x.fire("a"), "nothing is due before the SLA deadline")
		x.clock.Advance(time.Second)
		require.Equal(t, 1, x.fire("a"))
		want := []string{"reminder:u_qian", "reminder:u_sun", "reminder:u_zhao"}
		require.Equal(t, want, x.intentsOf(inst, flows.NotifyReminder))
		require.Zero(t, x.fire("a"), "the reminder was rescheduled, not left due")
		for _, n := range x.intents(inst) {
			if n.Kind == flows.NotifyReminder {
				require.Equal(t, flows.SystemActor, n.Actor)
			}
		}

		// A fresh engine (a restart) finds the rescheduled timer in the store.
		y := newFx(t, s)
		y.clock.Advance(3 * time.Hour)
		require.Equal(t, 1, y.fire("b"))
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 6)

		// Downtime: the missed reminders are not caught up one by one.
		y.clock.Advance(5*time.Hour + 30*time.Minute)
		require.Equal(t, 1, y.fire("b"))
		require.Zero(t, y.fire("b"))
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 9)

		y.approve(inst, "s", "u_qian")
		y.clock.Advance(24 * time.Hour)
		require.Zero(t, y.fire("b"), "the step ended, so its reminder was cancelled")
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 9)
		require.Equal(t, []string{"start", "assign:s", "remind:s", "remind:s", "remind:s", "approve", "pass:s", "assign:next"}, x.actions(inst))
	})
}

func TestTimerEscalate(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		x.register(slaFlows)
		inst := x.start("sla_escalate", "u_wu", nil)
		x.clock.Advance(90*time.Minute - time.Second)
		require.Zero(t, x.fire("a"))
		x.clock.Advance(time.Second)
		require.Equal(t, 1, x.fire("a"))

		require.Equal(t, []string{"s:u_zhao"}, x.open(inst))
		old := x.last(inst, "s", "u_qian")
		require.Equal(t, flows.TaskCancelled, old.Status)
		require.Equal(t, "escalate", old.Outcome)
		require.Equal(t, flows.SystemActor, old.DecidedBy)
		require.Contains(t, x.intentsOf(inst), "task_closed:u_qian")
		var assigned flows.NotificationIntent
		for _, n := range x.intents(inst) {
			if n.Kind == flows.NotifyTaskAssigned && n.Recipient == "u_zhao" {
				assigned = n
			}
		}
		require.Equal(t, flows.CauseEscalate, assigned.Cause)

		entries, err := s.Audit(t.Context(), inst)
		require.NoError(t, err)
		last := entries[len(entries)-1]
		require.Equal(t, "escalate", last.Action)
		require.Equal(t, flows.SystemActor, last.Actor)
		require.JSONEq(t, `["u_zhao"]`, jsonField(t, last.Detail, "to"))
		require.JSONEq(t, `"escalated (SLA)"`, jsonField(t, last.Detail, "comment"))

		x.clock.Advance(24 * time.Hour)
		require.Zero(t, x.fire("a"), "an escalation fires once")
		x.approve(inst, "s", "u_zhao")
		require.Equal(t, []string{"next:u_feng"}, x.open(inst))
		x.checkInvariants(inst)
	})
}

func TestTimerEscalateToVacantPost(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		x.register(slaFlows)
		inst := x.start("sla_vacant", "u_wu", nil)
		x.clock.Advance(time.Hour)
		require.Equal(t, 1, x.fire("a"))
		require.Equal(t, []string{"s:u_shen"}, x.open(inst), "nobody holds the role: the fallback (admin) takes over")
		require.Equal(t, "escalate", x.last(inst, "s", "u_qian").Outcome)
	})
}

func TestTimerAutoAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flow    string
		due     time.Duration
		status  flows.InstanceStatus
		outcome string
		open    []string
	}{
		{name: "approve", flow: "sla_approve", due: 2 * time.Hour, status: flows.InstanceRunning, outcome: "approve", open: []string{"next:u_feng"}},
		{name: "reject", flow: "sla_reject", due: time.Hour, status: flows.InstanceRejected, outcome: "reject"},
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				x := newFx(t, s)
				x.register(slaFlows)
				inst := x.start(tt.flow, "u_wu", nil)
				x.approve(inst, "s", "u_sun") // 会签: u_qian still has to decide
				x.clock.Advance(tt.due - time.Second)
				require.Zero(t, x.fire(tt.name))
				x.clock.Advance(time.Second)
				require.Equal(t, 1, x.fire(tt.name))

				require.Equal(t, tt.status, x.status(inst))
				require.Equal(t, tt.open, x.open(inst))
				qian := x.last(inst, "s", "u_qian")
				require.Equal(t, tt.outcome, qian.Outcome)
				require.Equal(t, flows.SystemActor, qian.DecidedBy)
				require.Contains(t, qian.Comment, "auto:")
				require.Contains(t, x.actions(inst), "auto_"+tt.outcome+":s")
				require.Contains(t, x.intentsOf(inst, flows.NotifyDecision), "decision:u_wu")
				x.checkInvariants(inst)
			})
		}
	})
}

func TestTimerStale(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("sign_any", "u_wu", nil)
		x.approve(inst, "s", "u_qian") // the step ended; its timers went with it
		before := x.instance(inst).Version
		// Timers an engine claimed before their step ended, or of a run of
		// the step that no longer exists, or of an instance that is gone.
		stale := []flows.Timer{
			{ID: flows.TimerID(inst, 1, flows.TimerRemind), InstanceID: inst, Kind: flows.TimerRemind},
			{ID: flows.TimerID(inst, 7, flows.TimerEscalate), InstanceID: inst, Kind: flows.TimerEscalate},
			{ID: flows.TimerID("gone", 1, flows.TimerAutoAction), InstanceID: "gone", Kind: flows.TimerAutoAction},
		}
		for i := range stale {
			p, err := json.Marshal(flows.TimerPayload{Step: "s", Activation: 1, Every: "1h", Action: flows.AutoApprove})
			require.NoError(t, err)
			stale[i].DueAt, stale[i].Payload = t0, p
		}
		_, err := s.Apply(t.Context(), flows.Change{NewTimers: stale})
		require.NoError(t, err)

		require.Equal(t, 3, x.fire("a"))
		x.clock.Advance(time.Hour) // past any lease
		require.Zero(t, x.fire("a"), "stale timers delete themselves")
		require.Equal(t, before, x.instance(inst).Version, "a stale timer does not touch the instance")
		require.Empty(t, x.intentsOf(inst, flows.NotifyReminder))
	})
}

// slowClaims is a store whose ClaimTimers hands its timers over only when
// the test says so: an engine that claimed and then stalled.
type slowClaims struct {
	flows.Store
	claimed chan struct{}
	release chan struct{}
}

func (s *slowClaims) ClaimTimers(ctx context.Context, now time.Time, holder string, lease time.Duration, limit int) ([]flows.Timer, error) {
	ts, err := s.Store.ClaimTimers(ctx, now, holder, lease, limit)
	close(s.claimed)
	<-s.release
	return ts, err
}

func TestTimerFiresOnceAcrossEngines(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x, y := newFx(t, s), newFx(t, s)
		var insts []string
		for range 8 {
			insts = append(insts, x.start("sign_any", "u_wu", nil))
		}
		x.clock.Advance(2 * time.Hour)
		y.clock.Advance(2 * time.Hour)
		var wg sync.WaitGroup
		var fired [2]int
		var errs [2]error
		for i, e := range []*flows.Engine{x.e, y.e} {
			wg.Go(func() {
				for { // small batches, so both engines get some
					n, err := e.FireDueTimers(t.Context(), []string{"x", "y"}[i], 2)
					if err != nil || n == 0 {
						errs[i] = err
						return
					}
					fired[i] += n
				}
			})
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, len(insts), fired[0]+fired[1])
		for _, inst := range insts {
			require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 3, "each reminder fired once")
		}
	})
}

func TestTimerLeaseRunsOut(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		slow := &slowClaims{Store: s, claimed: make(chan struct{}), release: make(chan struct{})}
		c := testclock.New(t0)
		a := flows.NewEngine(slow, flows.WithClock(c.Now))
		b := flows.NewEngine(s, flows.WithClock(c.Now))
		x := &fx{t: t, s: s, e: b, clock: c}
		inst := x.start("sign_any", "u_wu", nil)
		c.Advance(2 * time.Hour)

		done := make(chan int)
		go func() {
			n, err := a.FireDueTimers(context.Background(), "a", 10)
			if err != nil {
				n = -1
			}
			done <- n
		}()
		<-slow.claimed
		n, err := b.FireDueTimers(t.Context(), "b", 10)
		require.NoError(t, err)
		require.Zero(t, n, "the timer is leased to a")
		c.Advance(flows.DefaultTimerLease)
		n, err = b.FireDueTimers(t.Context(), "b", 10)
		require.NoError(t, err)
		require.Equal(t, 1, n, "a's lease ran out, so b fires the timer")
		close(slow.release)
		require.Equal(t, 1, <-done, "a settles its claim as already fired")
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 3, "the reminder went out once")
	})
}

func TestRunTimers(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		ticks := make(chan time.Time)
		rounds := make(chan int)
		stopped := make(chan struct{})
		x := newFx(t, s,
			flows.WithTicker(func(time.Duration) (<-chan time.Time, func()) { return ticks, func() { close(stopped) } }),
			flows.WithTimerObserver(func(n int, err error) {
				if err != nil {
					n = -1
				}
				rounds <- n
			}))
		inst := x.start("sign_any", "u_wu", nil)
		x.clock.Advance(2 * time.Hour)

		ctx, cancel := context.WithCancel(t.Context())
		result := make(chan error)
		go func() { result <- x.e.RunTimers(ctx, "runner", time.Second) }()
		require.Equal(t, 1, <-rounds, "the first round runs at once")
		ticks <- t0
		require.Zero(t, <-rounds)
		x.clock.Advance(time.Hour)
		ticks <- t0
		require.Equal(t, 1, <-rounds)
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 6)
		cancel()
		require.ErrorIs(t, <-result, context.Canceled)
		<-stopped

		require.Error(t, x.e.RunTimers(t.Context(), "runner", 0))
	})
}
