package flows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func TestWithdrawAndCancel(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("the applicant withdraws while undecided", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			x.approve(inst, "s", "u_qian")
			_, err := x.e.Withdraw(t.Context(), flows.InstanceRequest{Actor: "u_qian", InstanceID: inst})
			require.ErrorIs(t, err, flows.ErrNotApplicant)
			res, err := x.e.Withdraw(t.Context(), flows.InstanceRequest{Actor: "u_wu", InstanceID: inst, Comment: "不买了"})
			require.NoError(t, err)
			require.Equal(t, flows.InstanceWithdrawn, res.Status)
			require.Empty(t, x.open(inst))
			require.Equal(t, []string{"withdrawn:u_sun", "withdrawn:u_zhao"}, x.intentsOf(inst, flows.NotifyWithdrawn))
			_, err = x.e.Withdraw(t.Context(), flows.InstanceRequest{Actor: "u_wu", InstanceID: inst})
			require.ErrorIs(t, err, flows.ErrInstanceFinished)
			x.checkInvariants(inst)
		})
		t.Run("only who had the task in hand is told", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_seq", "u_wu", nil)
			_, err := x.e.Withdraw(t.Context(), flows.InstanceRequest{Actor: "u_wu", InstanceID: inst})
			require.NoError(t, err)
			require.Equal(t, []string{"withdrawn:u_qian"}, x.intentsOf(inst, flows.NotifyWithdrawn),
				"the later signers never had a card")
			x.checkInvariants(inst)
		})
		t.Run("an admin cancels", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_any", "u_wu", nil)
			_, err := x.e.Cancel(t.Context(), flows.InstanceRequest{Actor: "u_wu", InstanceID: inst})
			require.ErrorIs(t, err, flows.ErrNotAdmin, "the applicant withdraws, they do not cancel")
			res, err := x.e.Cancel(t.Context(), flows.InstanceRequest{Actor: "u_shen", InstanceID: inst, Comment: "重复提交"})
			require.NoError(t, err)
			require.Equal(t, flows.InstanceCancelled, res.Status)
			require.Equal(t, []string{"cancelled:u_qian", "cancelled:u_sun", "cancelled:u_zhao", "cancelled:u_wu"},
				x.intentsOf(inst, flows.NotifyCancelled))
			_, err = x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: x.last(inst, "s", "u_qian").ID})
			require.NoError(t, err, "a click on a card of a cancelled instance is answered, not refused")
			x.checkInvariants(inst)
		})
		t.Run("SLA timers are written at start and cancelled at the end", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("order_fulfilment", flows.SystemActor, orderForm("9000"))
			require.Equal(t, map[string]time.Time{
				flows.TimerID(inst, 1, flows.TimerRemind):   t0.Add(2 * time.Hour),
				flows.TimerID(inst, 1, flows.TimerEscalate): t0.Add(3 * time.Hour),
			}, timers(t, s, inst))
			x.clock.Advance(time.Hour)
			x.approve(inst, "finance_confirm", "u_qian")
			require.Equal(t, map[string]time.Time{
				flows.TimerID(inst, 2, flows.TimerRemind):     t0.Add(time.Hour + 24*time.Hour),
				flows.TimerID(inst, 2, flows.TimerAutoAction): t0.Add(time.Hour + 48*time.Hour),
			}, timers(t, s, inst), "the director's timers replace finance's")
			require.True(t, x.task(inst, "director", "u_zhou").DueAt.Equal(t0.Add(25*time.Hour)))
			_, err := x.e.Cancel(t.Context(), flows.InstanceRequest{Actor: "u_shen", InstanceID: inst})
			require.NoError(t, err)
			require.Empty(t, timers(t, s, inst))
		})
	})
}

// timers claims every timer of an instance (leases do not matter here) and
// returns their due times by id.
func timers(t *testing.T, s flows.Store, inst string) map[string]time.Time {
	t.Helper()
	claimed, err := s.ClaimTimers(t.Context(), t0.Add(1000*time.Hour), "test-"+inst, time.Nanosecond, 10000)
	require.NoError(t, err)
	out := map[string]time.Time{}
	for _, tm := range claimed {
		if tm.InstanceID == inst {
			out[tm.ID] = tm.DueAt.UTC()
		}
	}
	return out
}

func TestUrge(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		// order_fulfilment may be urged every 30 minutes.
		inst := x.start("order_fulfilment", "u_wu", orderForm("10"))
		_, err := x.e.Urge(t.Context(), flows.UrgeRequest{Actor: "u_qian", InstanceID: inst})
		require.ErrorIs(t, err, flows.ErrNotApplicant)

		res, err := x.e.Urge(t.Context(), flows.UrgeRequest{Actor: "u_wu", InstanceID: inst, Comment: "客户在催"})
		require.NoError(t, err)
		require.Equal(t, "urge", res.Op)
		require.Equal(t, []string{"reminder:u_qian", "reminder:u_sun", "reminder:u_zhao"}, x.intentsOf(inst, flows.NotifyReminder))

		x.clock.Advance(10 * time.Minute)
		_, err = x.e.Urge(t.Context(), flows.UrgeRequest{Actor: "u_wu", InstanceID: inst})
		var rl *flows.RateLimitError
		require.ErrorAs(t, err, &rl)
		require.ErrorIs(t, err, flows.ErrRateLimited)
		require.Equal(t, 20*time.Minute, rl.RetryAfter)

		x.clock.Advance(20 * time.Minute)
		_, err = x.e.Urge(t.Context(), flows.UrgeRequest{Actor: "u_wu", InstanceID: inst, TaskID: x.task(inst, "finance_confirm", "u_sun").ID})
		require.NoError(t, err, "after the interval one task may be urged again")
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 4)

		_, err = x.e.Urge(t.Context(), flows.UrgeRequest{Actor: "u_shen", InstanceID: inst})
		require.NoError(t, err, "an admin may urge; the tasks not urged just now are reminded")
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 6)
	})
}

func TestComment(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("sign_any", "u_wu", nil)
		_, err := x.e.Comment(t.Context(), flows.CommentRequest{Actor: "u_jiang", InstanceID: inst, Text: "路过"})
		require.ErrorIs(t, err, flows.ErrNotParticipant)
		_, err = x.e.Comment(t.Context(), flows.CommentRequest{Actor: "u_qian", InstanceID: inst, Text: " "})
		require.ErrorIs(t, err, flows.ErrCommentRequired)
		_, err = x.e.Comment(t.Context(), flows.CommentRequest{Actor: "u_qian", InstanceID: inst, Text: "发票呢?"})
		require.NoError(t, err)
		require.Equal(t, []string{"comment:u_wu", "comment:u_sun", "comment:u_zhao"}, x.intentsOf(inst, flows.NotifyComment))
		x.approve(inst, "s", "u_sun")
		_, err = x.e.Comment(t.Context(), flows.CommentRequest{Actor: "u_zhao", InstanceID: inst, Text: "已处理"})
		require.NoError(t, err, "whoever had a task may still comment")
	})
}
