package flows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// An operator keeps work moving for people who are away: an administrator
// (u_shen holds the admin role) may transfer anyone's open task and act on
// anyone's alert task, named in the audit on behalf of the holder; a
// decision stays personal.
func TestAdministratorKeepsWorkMoving(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("transfers a task whose holder is away", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			old := x.task(inst, "s", "u_qian")
			res, err := x.e.Transfer(t.Context(), flows.HandOverRequest{Actor: "u_shen", TaskID: old.ID, To: "u_wei", Comment: "钱休假"})
			require.NoError(t, err)
			require.Equal(t, "u_shen", res.By)
			require.Equal(t, "u_qian", res.OnBehalfOf)
			require.Equal(t, []string{"s:u_sun", "s:u_wei", "s:u_zhao"}, x.open(inst))
			audit := x.auditOf(inst, "transfer")
			require.Len(t, audit, 1)
			require.Equal(t, "u_shen", audit[0].Actor)
			require.Equal(t, "u_qian", audit[0].OnBehalfOf)
			x.checkInvariants(inst)
		})
		t.Run("does not decide for someone", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			task := x.task(inst, "s", "u_qian")
			_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_shen", TaskID: task.ID})
			require.ErrorIs(t, err, flows.ErrNotAssignee)
			_, err = x.e.Delegate(t.Context(), flows.HandOverRequest{Actor: "u_shen", TaskID: task.ID, To: "u_wei"})
			require.ErrorIs(t, err, flows.ErrNotAssignee, "委派 lends the holder's own judgement: theirs to do")
			require.Equal(t, []string{"s:u_qian", "s:u_sun", "s:u_zhao"}, x.open(inst))
		})
		t.Run("a non-administrator still may not transfer another's task", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			_, err := x.e.Transfer(t.Context(), flows.HandOverRequest{Actor: "u_wu", TaskID: x.task(inst, "s", "u_qian").ID, To: "u_wei"})
			require.ErrorIs(t, err, flows.ErrNotAssignee)
		})
		t.Run("acknowledges and resolves an alert nobody answers", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.alert("stock.oversell", oversell("SKU-1", "hz-1"), false).InstanceID
			_, err := x.e.Acknowledge(t.Context(), flows.AlertActionRequest{Actor: "u_wu", TaskID: x.task(inst, "page", "u_feng").ID})
			require.ErrorIs(t, err, flows.ErrNotAssignee, "not on call, not an administrator")
			ack := x.alertAct(func(e *flows.Engine) (flows.Result, error) {
				return e.Acknowledge(t.Context(), flows.AlertActionRequest{Actor: "u_shen", TaskID: x.task(inst, "page", "u_feng").ID})
			})
			require.Equal(t, "u_shen", ack.By)
			require.Equal(t, "u_feng", ack.OnBehalfOf)
			x.alertAct(func(e *flows.Engine) (flows.Result, error) {
				return e.Resolve(t.Context(), flows.AlertActionRequest{Actor: "u_shen", TaskID: x.task(inst, "page", "u_feng").ID, Comment: "已补货"})
			})
			require.Equal(t, []string{"handle:u_jiang", "handle:u_wei"}, x.open(inst), "the flow goes on to purchasing")
			resolved := x.auditOf(inst, "resolve")
			require.Len(t, resolved, 1)
			require.Equal(t, "u_shen", resolved[0].Actor)
			require.Equal(t, "u_feng", resolved[0].OnBehalfOf)
			x.checkInvariants(inst)
		})
	})
}
