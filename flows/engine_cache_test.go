package flows_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// readCounter counts the instance reads an engine makes.
type readCounter struct {
	flows.Store
	reads atomic.Int64
}

func (c *readCounter) Instance(ctx context.Context, id string) (flows.Instance, error) {
	c.reads.Add(1)
	return c.Store.Instance(ctx, id)
}

// TestInstanceCache: the click on a task the engine just opened does not
// read the instance again, unless the cache is off.
func TestInstanceCache(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		tests := []struct {
			name  string
			opts  []flows.Option
			reads int64
		}{
			{name: "default", reads: 0},
			{name: "off", opts: []flows.Option{flows.WithInstanceCache(0)}, reads: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rc := &readCounter{Store: s}
				x := newFx(t, rc, tt.opts...)
				res, err := x.e.Start(t.Context(), flows.StartRequest{Actor: "u_wu", FlowID: "sign_single"})
				require.NoError(t, err)
				rc.reads.Store(0)
				approved, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: res.Opened[0]})
				require.NoError(t, err)
				require.False(t, approved.AlreadyDecided)
				require.EqualValues(t, 2, approved.Version)
				require.Equal(t, tt.reads, rc.reads.Load())
			})
		}
	})
}

// TestInstanceCacheBehind: an engine whose kept copy of an instance is
// behind another engine's change (another server process) answers from
// the store's state, never from its copy.
func TestInstanceCacheBehind(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("the next signer clicks a task the copy thinks waiting", func(t *testing.T) {
			t.Parallel()
			a, b := newFx(t, s), newFx(t, s)
			inst := a.start("sign_seq", "u_wu", nil)
			next := a.task(inst, "s", "u_sun").ID
			b.approve(inst, "s", "u_qian")
			res, err := a.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_sun", TaskID: next})
			require.NoError(t, err, "refused on the engine's old copy")
			require.False(t, res.AlreadyDecided)
			require.EqualValues(t, 3, res.Version)
			a.checkInvariants(inst)
		})
		t.Run("transfer", func(t *testing.T) {
			t.Parallel()
			transferBehind(t, s)
		})
	})
}

// transferBehind: the task was transferred by another engine; its old and
// its new holder click.
func transferBehind(t *testing.T, s flows.Store) {
	tests := []struct {
		name  string
		actor string
		task  func(old, transferred string) string
		want  func(t *testing.T, res flows.Result, err error)
	}{
		{name: "the new holder acts on a task the copy does not know", actor: "u_wei",
			task: func(_, transferred string) string { return transferred },
			want: func(t *testing.T, res flows.Result, err error) {
				require.NoError(t, err)
				require.False(t, res.AlreadyDecided)
				require.EqualValues(t, 3, res.Version)
			}},
		{name: "the old holder clicks a task the copy thinks open", actor: "u_qian",
			task: func(old, _ string) string { return old },
			want: func(t *testing.T, res flows.Result, err error) {
				require.NoError(t, err)
				require.True(t, res.AlreadyDecided)
				require.Equal(t, "transfer", res.Outcome)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := newFx(t, s), newFx(t, s)
			inst := a.start("sign_single", "u_wu", nil)
			old := a.task(inst, "s", "u_qian").ID
			moved, err := b.e.Transfer(t.Context(), flows.HandOverRequest{Actor: "u_qian", TaskID: old, To: "u_wei"})
			require.NoError(t, err)
			res, err := a.e.Approve(t.Context(), flows.DecideRequest{Actor: tt.actor, TaskID: tt.task(old, moved.Opened[0])})
			tt.want(t, res, err)
			a.checkInvariants(inst)
			require.EqualValues(t, 2+btoi(!res.AlreadyDecided), a.instance(inst).Version)
		})
	}
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
