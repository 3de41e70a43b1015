package flows_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// viewCounter counts the one-round-trip view reads of a store that has them.
type viewCounter struct {
	flows.Store
	vr    flows.ViewReader
	reads atomic.Int64
}

func (c *viewCounter) InstanceView(ctx context.Context, id string, taskLimit int) (flows.Instance, []flows.Task, []flows.AuditEntry, error) {
	c.reads.Add(1)
	return c.vr.InstanceView(ctx, id, taskLimit)
}

// TestViewCache: the cards of one commit share one read of the instance;
// a reader asking for a later version than the kept view reads again and
// sees it; a reader asking for no version always reads.
func TestViewCache(t *testing.T) {
	t.Parallel()
	s := openPostgres(t)
	seed(t, s)
	vc := &viewCounter{Store: s, vr: s.(flows.ViewReader)}
	ctx := t.Context()

	for _, tc := range []struct {
		name   string
		opts   []flows.Option
		cached bool
	}{{name: "default", cached: true}, {name: "off", opts: []flows.Option{flows.WithViewCache(0)}}} {
		t.Run(tc.name, func(t *testing.T) {
			x := newFx(t, vc, tc.opts...)
			res, err := x.e.Start(ctx, flows.StartRequest{Actor: "u_wu", FlowID: "sign_single"})
			require.NoError(t, err)
			reads := func() int64 { return vc.reads.Load() }
			start := reads()
			view := func(ctx context.Context, viewer string) flows.InstanceView {
				v, err := x.e.Instance(ctx, viewer, res.InstanceID)
				require.NoError(t, err)
				return v
			}

			view(ctx, "u_wu")
			view(ctx, "u_wu")
			require.Equal(t, start+2, reads(), "without a version every view reads")
			v := view(flows.ViewAtLeast(ctx, res.Version), "u_qian")
			require.Equal(t, res.Version, v.Instance.Version)
			require.Equal(t, start+3, reads(), "a view without a version is not kept")
			view(flows.ViewAtLeast(ctx, res.Version), "u_wu")
			want := start + 3
			if !tc.cached {
				want++
			}
			require.Equal(t, want, reads(), "the applicant's and the signer's card of one commit")

			approved, err := x.e.Approve(ctx, flows.DecideRequest{Actor: "u_qian", TaskID: res.Opened[0]})
			require.NoError(t, err)
			v = view(flows.ViewAtLeast(ctx, approved.Version), "u_wu")
			want++
			require.Equal(t, want, reads(), "a later commit than the kept view is read")
			require.Equal(t, approved.Version, v.Instance.Version)
			require.Equal(t, flows.TaskApproved, v.Tasks[0].Status)
			require.Len(t, v.Tasks, 2, "the approval opened the next step's task")

			v = view(flows.ViewAtLeast(ctx, res.Version), "u_qian")
			if !tc.cached {
				want++
			}
			require.Equal(t, want, reads())
			require.Equal(t, approved.Version, v.Instance.Version, "an older commit's card shows the newer state")
			require.Equal(t, flows.TaskApproved, v.Tasks[0].Status)
		})
	}
}
