package flows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// Regressions found by TestEngineProperties.

// TestHandOverToDelegate: a user advising on one seat of a step as its
// delegate (委派) already decides in that step, so another seat of it may
// not be handed to them; they would hold two undecided tasks of one step.
func TestHandOverToDelegate(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		tests := []struct {
			name string
			hand func(x *fx, task string) error
		}{
			{name: "transfer", hand: func(x *fx, task string) error {
				_, err := x.e.Transfer(x.t.Context(), flows.HandOverRequest{Actor: "u_zhao", TaskID: task, To: "u_jiang"})
				return err
			}},
			{name: "delegate", hand: func(x *fx, task string) error {
				_, err := x.e.Delegate(x.t.Context(), flows.HandOverRequest{Actor: "u_zhao", TaskID: task, To: "u_jiang"})
				return err
			}},
			{name: "add signer", hand: func(x *fx, task string) error {
				_, err := x.e.AddSigner(x.t.Context(), flows.AddSignerRequest{Actor: "u_zhao", TaskID: task, Users: []string{"u_jiang"}, Position: flows.SignBefore})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				inst := x.start("order_fulfilment", flows.SystemActor, orderForm("100"))
				_, err := x.e.Delegate(t.Context(), flows.HandOverRequest{Actor: "u_qian", TaskID: x.task(inst, "finance_confirm", "u_qian").ID, To: "u_jiang"})
				require.NoError(t, err)
				version := x.instance(inst).Version
				err = tt.hand(x, x.task(inst, "finance_confirm", "u_zhao").ID)
				require.ErrorIs(t, err, flows.ErrInvalidTarget)
				require.Equal(t, version, x.instance(inst).Version)
				x.checkInvariants(inst)
			})
		}
	})
}

// TestAnyPassesWhenAddedSignerIsClosed: in a 或签 step, one assignee
// added a signer before themselves (前加签) and another assignee approved.
// The approval closes the other assignees' seats with the signers added
// before them; nothing is left pending, so the step passes rather than
// leave the instance running with no open task.
func TestAnyPassesWhenAddedSignerIsClosed(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("order_fulfilment", flows.SystemActor, orderForm("100"))
		_, err := x.e.AddSigner(t.Context(), flows.AddSignerRequest{Actor: "u_sun", TaskID: x.task(inst, "finance_confirm", "u_sun").ID,
			Users: []string{"u_wang"}, Position: flows.SignBefore})
		require.NoError(t, err)
		x.approve(inst, "finance_confirm", "u_qian")
		require.Equal(t, []string{"pack:u_feng", "pack:u_zheng"}, x.open(inst))
		require.Contains(t, x.actions(inst), "pass:finance_confirm")
		x.checkInvariants(inst)
	})
}
