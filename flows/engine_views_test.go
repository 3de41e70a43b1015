package flows_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"cardflow/flows"
	"cardflow/internal/testclock"
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

// TestViewCache: the cards of one commit share one read of the instance
// (none at all when this engine made the commit, see
// TestKeptViewsAreTheStoredOnes); a reader asking for a later version than
// the kept view reads again and sees it; a reader asking for no version
// always reads.
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
			want := reads()
			view := func(ctx context.Context, viewer string) flows.InstanceView {
				v, err := x.e.Instance(ctx, viewer, res.InstanceID)
				require.NoError(t, err)
				return v
			}
			// n more reads when the cache is off, m when it is on.
			expect := func(off, on int64, msg string) {
				t.Helper()
				if tc.cached {
					want += on
				} else {
					want += off
				}
				require.Equal(t, want, reads(), msg)
			}

			v := view(flows.ViewAtLeast(ctx, res.Version), "u_qian")
			require.Equal(t, res.Version, v.Instance.Version)
			view(flows.ViewAtLeast(ctx, res.Version), "u_wu")
			expect(2, 0, "the start's cards show the view the start kept")
			view(ctx, "u_wu")
			view(ctx, "u_wu")
			expect(2, 2, "without a version every view reads")

			// Decided on another server instance: this one has not seen the
			// commit, so its kept view is older.
			approved, err := newFx(t, vc, tc.opts...).e.Approve(ctx, flows.DecideRequest{Actor: "u_qian", TaskID: res.Opened[0]})
			require.NoError(t, err)
			view(ctx, "u_wu")
			v = view(flows.ViewAtLeast(ctx, approved.Version), "u_wu")
			expect(2, 2, "a view without a version is not kept; a later commit than the kept view is read")
			require.Equal(t, approved.Version, v.Instance.Version)
			require.Equal(t, flows.TaskApproved, v.Tasks[0].Status)
			require.Len(t, v.Tasks, 2, "the approval opened the next step's task")
			view(flows.ViewAtLeast(ctx, approved.Version), "u_qian")
			expect(1, 0, "the signer's and the applicant's cards of one commit")

			v = view(flows.ViewAtLeast(ctx, res.Version), "u_qian")
			expect(1, 0, "")
			require.Equal(t, approved.Version, v.Instance.Version, "an older commit's card shows the newer state")
			require.Equal(t, flows.TaskApproved, v.Tasks[0].Status)
		})
	}
}

// heldReads holds the first view read until a second one starts or a
// while has passed, and records the most reads of one instance in flight
// at once.
type heldReads struct {
	flows.Store
	vr                 flows.ViewReader
	inFlight, most     atomic.Int64
	first, second      chan struct{}
	firstOnce, secOnce atomic.Bool
}

func (h *heldReads) InstanceView(ctx context.Context, id string, taskLimit int) (flows.Instance, []flows.Task, []flows.AuditEntry, error) {
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for m := h.most.Load(); n > m && !h.most.CompareAndSwap(m, n); m = h.most.Load() {
	}
	if h.firstOnce.CompareAndSwap(false, true) {
		close(h.first)
		select {
		case <-h.second:
		case <-time.After(300 * time.Millisecond):
		}
	} else if h.secOnce.CompareAndSwap(false, true) {
		close(h.second)
	}
	return h.vr.InstanceView(ctx, id, taskLimit)
}

// TestViewReadsShared: the cards of one commit, delivered in parallel,
// share the read the first of them makes instead of each reading the
// instance. The first read is held until a second read starts (which is
// the failure) or for 300 ms, so the other readers are waiting when it
// ends; sharing never lets two reads of the instance run at once, so the
// test cannot fail when the reads are shared, however the readers are
// scheduled.
func TestViewReadsShared(t *testing.T) {
	t.Parallel()
	s := openPostgres(t)
	seed(t, s)
	h := &heldReads{Store: s, vr: s.(flows.ViewReader), first: make(chan struct{}), second: make(chan struct{})}
	x := newFx(t, h)
	// Started by another server instance: this one has not kept its view.
	res, err := newFx(t, s).e.Start(t.Context(), flows.StartRequest{Actor: "u_wu", FlowID: "sign_single"})
	require.NoError(t, err)
	ctx := flows.ViewAtLeast(t.Context(), res.Version)
	views := make([]flows.InstanceView, 16)
	var g errgroup.Group
	g.Go(func() (err error) { views[0], err = x.e.Instance(ctx, "u_qian", res.InstanceID); return err })
	<-h.first
	for i := 1; i < len(views); i++ {
		g.Go(func() (err error) { views[i], err = x.e.Instance(ctx, "u_wu", res.InstanceID); return err })
	}
	require.NoError(t, g.Wait())
	require.Equal(t, int64(1), h.most.Load(), "readers of one commit read the instance at once")
	for _, v := range views {
		require.Equal(t, res.Version, v.Instance.Version)
		require.Len(t, v.Tasks, 1)
	}
	// Each reader has its own copy of the shared view.
	views[1].Tasks[0].Assignee = "changed"
	require.NotEqual(t, "changed", views[2].Tasks[0].Assignee)
}

// TestCreatedViewIsTheStoredOne: the view the engine keeps of an instance
// it created (the start's answer, its first cards) is exactly what a read
// of the store gives, on both stores, for starts with one task, several
// signers at once, sequential signers and a form; the clock runs in
// another zone and finer than the store keeps. (Only a store that reads a
// view in one go, PostgreSQL, has its views kept.)
func TestCreatedViewIsTheStoredOne(t *testing.T) {
	t.Parallel()
	s := openPostgres(t)
	seed(t, s)
	{
		shanghai := time.FixedZone("CST", 8*3600)
		fine := time.Date(2026, 11, 30, 18, 4, 5, 123456789, shanghai)
		vc := &viewCounter{Store: s, vr: s.(flows.ViewReader)}
		e := flows.NewEngine(vc, flows.WithClock(func() time.Time { return fine }))
		reader := flows.NewEngine(s, flows.WithViewCache(0))
		starts := []flows.StartRequest{
			{Actor: "u_wu", FlowID: "sign_single"},
			{Actor: "u_wu", FlowID: "sign_all", Title: "会签"},
			{Actor: "u_wu", FlowID: "sign_seq"},
			{Actor: "u_chen", FlowID: "order_fulfilment", Form: orderForm("6800.5")},
		}
		for _, req := range starts {
			res, err := e.Start(t.Context(), req)
			require.NoError(t, err, req.FlowID)
			for _, viewer := range []string{req.Actor, "u_qian"} {
				kept, err := e.Instance(flows.ViewAtLeast(t.Context(), res.Version), viewer, res.InstanceID)
				if errors.Is(err, flows.ErrNotParticipant) {
					continue
				}
				require.NoError(t, err, req.FlowID)
				read, err := reader.Instance(t.Context(), viewer, res.InstanceID)
				require.NoError(t, err, req.FlowID)
				require.Equal(t, read, kept, "%s as %s", req.FlowID, viewer)
			}
		}
		require.Zero(t, vc.reads.Load(), "the created views are kept")
	}
}

// TestKeptViewsAreTheStoredOnes walks instances through every kind of
// change a person makes and checks after each that the view the engine
// kept from the commit is exactly what a read of the store gives, and that
// it was kept (no read was needed).
func TestKeptViewsAreTheStoredOnes(t *testing.T) {
	t.Parallel()
	s := openPostgres(t)
	seed(t, s)
	vc := &viewCounter{Store: s, vr: s.(flows.ViewReader)}
	// A clock finer than the store keeps, in another zone.
	clock := testclock.New(time.Date(2026, 11, 30, 18, 4, 5, 123456789, time.FixedZone("CST", 8*3600)))
	x := &fx{t: t, s: vc, e: flows.NewEngine(vc, flows.WithClock(clock.Now)), clock: clock}
	reader := flows.NewEngine(s, flows.WithViewCache(0))
	ctx := t.Context()
	step := func(name string, inst string, a flows.Action) {
		t.Helper()
		res, err := x.e.Act(ctx, a)
		require.NoError(t, err, name)
		for _, viewer := range []string{"u_wu", "u_shen"} {
			before := vc.reads.Load()
			kept, err := x.e.Instance(flows.ViewAtLeast(ctx, res.Version), viewer, inst)
			if errors.Is(err, flows.ErrNotParticipant) {
				continue
			}
			require.NoError(t, err, name)
			require.Equal(t, before, vc.reads.Load(), "%s: the commit's view was not kept", name)
			read, err := reader.Instance(ctx, viewer, inst)
			require.NoError(t, err, name)
			require.Equal(t, read, kept, "%s, seen by %s", name, viewer)
		}
		x.clock.Advance(time.Minute)
	}
	task := func(inst, st, user string) string { return x.task(inst, st, user).ID }

	a := x.start("sign_all", "u_wu", map[string]any{"note": "第一版", "secret": "s"})
	step("comment on a task", a, flows.Action{Kind: flows.ActComment, Actor: "u_qian", TaskID: task(a, "s", "u_qian"), Comment: "看一下"})
	step("urge", a, flows.Action{Kind: flows.ActUrge, Actor: "u_wu", InstanceID: a})
	step("transfer", a, flows.Action{Kind: flows.ActTransfer, Actor: "u_sun", TaskID: task(a, "s", "u_sun"), To: "u_wang", Comment: "请假"})
	step("approve with an edit", a, flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: task(a, "s", "u_qian"), Comment: "同意", Edits: map[string]any{"note": "改过"}})
	step("add a signer before", a, flows.Action{Kind: flows.ActAddSigner, Actor: "u_zhao", TaskID: task(a, "s", "u_zhao"), Users: []string{"u_wei"}, Position: flows.SignBefore})
	step("approve", a, flows.Action{Kind: flows.ActApprove, Actor: "u_wang", TaskID: task(a, "s", "u_wang")})
	step("the added signer approves", a, flows.Action{Kind: flows.ActApprove, Actor: "u_wei", TaskID: task(a, "s", "u_wei")})
	step("the holder approves after them", a, flows.Action{Kind: flows.ActApprove, Actor: "u_zhao", TaskID: task(a, "s", "u_zhao")})
	step("return to the applicant", a, flows.Action{Kind: flows.ActReturn, Actor: "u_feng", TaskID: task(a, "next", "u_feng"), To: "applicant", Comment: "请补充"})
	step("resubmit", a, flows.Action{Kind: flows.ActResubmit, Actor: "u_wu", InstanceID: a, Form: map[string]any{"note": "第二版", "secret": "s"}})
	step("withdraw", a, flows.Action{Kind: flows.ActWithdraw, Actor: "u_wu", InstanceID: a, Comment: "不要了"})

	b := x.start("sign_seq", "u_wu", nil)
	step("the first of sequential signers", b, flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: task(b, "s", "u_qian")})
	step("delegate", b, flows.Action{Kind: flows.ActDelegate, Actor: "u_sun", TaskID: task(b, "s", "u_sun"), To: "u_chu"})
	step("reject", b, flows.Action{Kind: flows.ActReject, Actor: "u_chu", TaskID: task(b, "s", "u_chu"), Comment: "不同意"})

	c := x.start("sign_single", "u_wu", nil)
	step("approve the single signer", c, flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: task(c, "s", "u_qian")})
	step("complete the task", c, flows.Action{Kind: flows.ActComplete, Actor: "u_feng", TaskID: task(c, "next", "u_feng"), Result: map[string]any{}})
}
