package flows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func TestRegisterKeepsVersions(t *testing.T) {
	t.Parallel()
	v1 := joinLines("id: versioned", "name: v", "form: [{key: note, type: string}]", "steps:",
		"  - {id: a, type: approval, assignees: {user: u_qian}}")
	v2 := strings.Replace(v1, "u_qian", "u_sun", 1)
	parse := func(t *testing.T, src string) *flows.Flow {
		f, err := flows.ParseFlow("versioned.yaml", []byte(src))
		require.NoError(t, err)
		return f
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		defs, err := x.e.Register(t.Context(), parse(t, v1))
		require.NoError(t, err)
		require.Equal(t, 1, defs[0].Version)
		old := x.start("versioned", "u_wu", nil)

		defs, err = x.e.Register(t.Context(), parse(t, v1))
		require.NoError(t, err)
		require.Equal(t, 1, defs[0].Version, "an unchanged file keeps its version")
		defs, err = x.e.Register(t.Context(), parse(t, v2))
		require.NoError(t, err)
		require.Equal(t, 2, defs[0].Version)

		// Another process (no cache) sees both versions from the store.
		other := newFx(t, s)
		young := other.start("versioned", "u_wu", nil)
		require.Equal(t, 2, other.instance(young).FlowVersion)
		require.Equal(t, []string{"a:u_sun"}, other.open(young))
		require.Equal(t, 1, other.instance(old).FlowVersion)
		other.approve(old, "a", "u_qian")
		require.Equal(t, flows.InstanceApproved, other.status(old), "the old instance runs its own version")
	})
}

// TestInstanceIDsAscend: an instance id is 32 hex digits, and ids sort in
// the order their instances were started (UUIDv7), which keeps every index
// keyed by them taking new entries at one edge.
func TestInstanceIDsAscend(t *testing.T) {
	t.Parallel()
	s := openSQLite(t)
	seed(t, s)
	x := newFx(t, s)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = x.start("sign_single", "u_wu", nil)
		require.Regexp(t, `^[0-9a-f]{32}$`, ids[i])
	}
	require.True(t, slices.IsSorted(ids), "ids in start order: %v", ids)
	require.Len(t, slices.Compact(slices.Clone(ids)), len(ids), "every id is new")
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("a replayed start returns the first instance", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			req := flows.StartRequest{Actor: "u_wu", Key: "evt-start-" + t.Name(), FlowID: "sign_any"}
			first, err := x.e.Start(t.Context(), req)
			require.NoError(t, err)
			again, err := x.e.Start(t.Context(), req)
			require.NoError(t, err)
			require.True(t, again.Replayed)
			again.Replayed = false
			require.Equal(t, first, again)
			mine, err := s.Instances(t.Context(), flows.InstanceFilter{FlowID: "sign_any", Applicant: "u_wu"})
			require.NoError(t, err)
			n := 0
			for _, i := range mine {
				if i.ID == first.InstanceID {
					n++
				}
			}
			require.Equal(t, 1, n)
		})
		t.Run("a replayed approval returns the first answer after the flow moved on", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			req := flows.DecideRequest{Actor: "u_qian", Key: "feishu:evt-1-" + inst, TaskID: x.task(inst, "s", "u_qian").ID}
			first, err := x.e.Approve(t.Context(), req)
			require.NoError(t, err)
			x.approve(inst, "s", "u_sun")
			version := x.instance(inst).Version
			again, err := x.e.Approve(t.Context(), req)
			require.NoError(t, err)
			require.True(t, again.Replayed)
			require.Equal(t, first.Version, again.Version)
			require.Equal(t, version, x.instance(inst).Version, "nothing changed")
			require.Equal(t, 2, count(x.actions(inst), "approve"))
		})
		t.Run("a key used for another operation is refused", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			key := "api:k-" + inst
			_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", Key: key, TaskID: x.task(inst, "s", "u_qian").ID})
			require.NoError(t, err)
			_, err = x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_sun", Key: key, TaskID: x.task(inst, "s", "u_sun").ID})
			require.ErrorIs(t, err, flows.ErrKeyReused)
			require.Equal(t, []string{"s:u_sun", "s:u_zhao"}, x.open(inst))
		})
		t.Run("a refused operation does not burn its key", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			req := flows.DecideRequest{Actor: "u_qian", Key: "k-reason-" + inst, TaskID: x.task(inst, "s", "u_qian").ID}
			_, err := x.e.Reject(t.Context(), req)
			require.ErrorIs(t, err, flows.ErrCommentRequired)
			req.Comment = "预算不足"
			res, err := x.e.Reject(t.Context(), req)
			require.NoError(t, err)
			require.Equal(t, flows.InstanceRejected, res.Status)
		})
	})
}

// TestConcurrentAny races two approvers of one 或签 step many times:
// exactly one wins each time, the other is told who won, and the step
// passes once.
func TestConcurrentAny(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		for i := range 8 {
			inst := x.start("sign_any", "u_wu", nil)
			users := []string{"u_qian", "u_sun", "u_zhao"}
			results := make([]flows.Result, len(users))
			errs := make([]error, len(users))
			ready := make(chan struct{})
			var wg sync.WaitGroup
			for j, u := range users {
				task := x.task(inst, "s", u)
				wg.Go(func() {
					<-ready
					results[j], errs[j] = x.e.Approve(t.Context(), flows.DecideRequest{Actor: u, TaskID: task.ID, Key: fmt.Sprintf("race-%d-%s-%s", i, u, inst)})
				})
			}
			close(ready)
			wg.Wait()
			winners := 0
			for j := range users {
				require.NoError(t, errs[j])
				if !results[j].AlreadyDecided {
					winners++
				}
			}
			require.Equal(t, 1, winners, "round %d", i)
			for j := range users {
				if results[j].AlreadyDecided {
					require.NotEqual(t, users[j], results[j].By, "a loser is told who won")
				}
			}
			require.Equal(t, []string{"next:u_feng"}, x.open(inst))
			require.Equal(t, 1, count(x.actions(inst), "pass:s"))
			require.Len(t, x.withStatus(inst, flows.TaskApproved), 1)
			x.checkInvariants(inst)
		}
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("sign_seq", "u_wu", nil)
		first := x.task(inst, "s", "u_qian")
		waiting := x.task(inst, "s", "u_sun")
		tests := []struct {
			name string
			do   func() error
			want error
		}{
			{name: "approve someone else's task", want: flows.ErrNotAssignee, do: func() error {
				_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_sun", TaskID: first.ID})
				return err
			}},
			{name: "approve before one's turn", want: flows.ErrTaskNotOpen, do: func() error {
				_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_sun", TaskID: waiting.ID})
				return err
			}},
			{name: "reject without a reason", want: flows.ErrCommentRequired, do: func() error {
				_, err := x.e.Reject(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: first.ID})
				return err
			}},
			{name: "complete an approval", want: flows.ErrNotApplicable, do: func() error {
				_, err := x.e.Complete(t.Context(), flows.CompleteRequest{Actor: "u_qian", TaskID: first.ID})
				return err
			}},
			{name: "edit a read-only field", want: flows.ErrInvalidForm, do: func() error {
				_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: first.ID, Edits: map[string]any{"secret": "x"}})
				return err
			}},
			{name: "an unknown task", want: flows.ErrNotFound, do: func() error {
				_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: "nope"})
				return err
			}},
			{name: "start an unknown flow", want: flows.ErrNotFound, do: func() error {
				_, err := x.e.Start(t.Context(), flows.StartRequest{Actor: "u_wu", FlowID: "nope"})
				return err
			}},
			{name: "start as an unknown applicant", want: flows.ErrUnknownUser, do: func() error {
				_, err := x.e.Start(t.Context(), flows.StartRequest{Actor: "u_ghost", FlowID: "sign_any"})
				return err
			}},
			{name: "resubmit what was not returned", want: flows.ErrNotApplicable, do: func() error {
				_, err := x.e.Resubmit(t.Context(), flows.ResubmitRequest{Actor: "u_wu", InstanceID: inst})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				require.ErrorIs(t, tt.do(), tt.want)
			})
		}
		require.Equal(t, []string{"s:u_qian"}, x.open(inst), "no refused operation changed anything")
		require.Equal(t, int64(1), x.instance(inst).Version)
	})
}

func TestIntentSchema(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		n := 0
		x := newFx(t, s, flows.WithIDs(func() string { n++; return fmt.Sprintf("id-%03d", n) }))
		inst := x.start("sign_single", "u_wu", map[string]any{"note": "n"})
		require.Equal(t, "id-001", inst)
		res := x.approve(inst, "s", "u_qian")
		all := x.intents(inst)
		require.Len(t, all, 3)
		assigned, decision, next := all[0], all[1], all[2]
		task := x.last(inst, "s", "u_qian")
		require.Equal(t, flows.NotificationIntent{
			Kind: flows.NotifyTaskAssigned, Key: inst + "/v1/task_assigned/u_qian/" + task.ID, Recipient: "u_qian",
			InstanceID: inst, FlowID: "sign_single", FlowVersion: 1, Title: "吴销售提交的会签测试 sign_single", Applicant: "u_wu",
			Status: flows.InstanceRunning, Version: 1, TaskID: task.ID, StepID: "s", StepName: "审批",
			Actor: "u_wu", At: assigned.At,
		}, assigned)
		require.True(t, assigned.At.Equal(t0))
		require.Equal(t, flows.NotifyDecision, decision.Kind)
		require.Equal(t, "u_wu", decision.Recipient)
		require.Equal(t, "approve", decision.Outcome)
		require.Equal(t, "u_qian", decision.Actor)
		require.Equal(t, res.Version, decision.Version)
		require.Equal(t, "u_feng", next.Recipient)

		raw, err := json.Marshal(assigned)
		require.NoError(t, err)
		require.NotContains(t, string(raw), "for_user", "optional fields are omitted")
	})
}

func TestViews(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("sign_seq", "u_wu", map[string]any{"note": "公开", "secret": "机密"})
		keys := func(v flows.InstanceView) []string {
			var out []string
			for _, f := range v.Form {
				out = append(out, f.Field.Key)
			}
			return out
		}
		mine, err := x.e.Instance(t.Context(), "u_wu", inst)
		require.NoError(t, err)
		require.Equal(t, []string{"note", "secret"}, keys(mine), "the applicant sees everything")
		require.Nil(t, mine.Instance.Form, "no raw form to leak")

		approver, err := x.e.Instance(t.Context(), "u_sun", inst)
		require.NoError(t, err)
		require.Equal(t, "s", approver.ViewedAs)
		require.Equal(t, []string{"note"}, keys(approver), "the step hides secret")
		require.Len(t, approver.Current, 1)
		require.Equal(t, "s", approver.Current[0].StepID)
		require.Len(t, approver.Current[0].Tasks, 3, "the open signer and the two waiting")
		require.Equal(t, []string{"start", "assign"}, auditActions(approver.Audit))

		_, err = x.e.Instance(t.Context(), "u_jiang", inst)
		require.ErrorIs(t, err, flows.ErrNotParticipant)

		todo, err := x.e.Tasks(t.Context(), flows.TaskQuery{Assignee: "u_qian"})
		require.NoError(t, err)
		var found *flows.TaskView
		for i, v := range todo {
			if v.Task.InstanceID == inst {
				found = &todo[i]
			}
		}
		require.NotNil(t, found)
		require.Equal(t, "审批", found.StepName)
		require.Equal(t, "u_wu", found.Applicant)
		require.Len(t, found.Form, 1)
		require.Equal(t, "note", found.Form[0].Field.Key)
	})
}

func auditActions(entries []flows.AuditEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action
	}
	return out
}

// flakyStore fails the next fails Applies with a stale version, as if
// another process had changed the instance each time.
type flakyStore struct {
	flows.Store
	mu    sync.Mutex
	fails int
	calls int
}

func (f *flakyStore) Apply(ctx context.Context, c flows.Change) (flows.Applied, error) {
	f.mu.Lock()
	f.calls++
	stale := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if stale {
		return flows.Applied{}, fmt.Errorf("flaky: %w", flows.ErrStaleVersion)
	}
	return f.Store.Apply(ctx, c)
}

func TestStaleVersionRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fails     int
		wantErr   error
		wantCalls int
	}{
		{name: "two lost races are retried", fails: 2, wantCalls: 3},
		{name: "a flood of races gives up", fails: 100, wantErr: flows.ErrStaleVersion, wantCalls: 5},
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				inst := x.start("sign_all", "u_wu", nil)
				flaky := &flakyStore{Store: s, fails: tt.fails}
				e := flows.NewEngine(flaky, flows.WithClock(x.clock.Now))
				_, err := e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: x.task(inst, "s", "u_qian").ID})
				require.ErrorIs(t, err, tt.wantErr)
				require.Equal(t, tt.wantCalls, flaky.calls)
				want := []string{"s:u_sun", "s:u_zhao"}
				if tt.wantErr != nil {
					want = []string{"s:u_qian", "s:u_sun", "s:u_zhao"}
				}
				require.Equal(t, want, x.open(inst))
			})
		}
	})
}

// TestOrgCache checks that directory lookups are reused for the org TTL
// and that a reloaded org file is seen once it has passed.
func TestOrgCache(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		finance := func(x *fx) []string {
			return x.open(x.start("order_fulfilment", flows.SystemActor, orderForm("1")))
		}
		require.Len(t, finance(x), 3)

		org := fixtureOrg
		org.Users = slices.Clone(org.Users)
		for i, u := range org.Users {
			if u.ID == "u_sun" {
				u.Roles = nil
				org.Users[i] = u
			}
		}
		require.NoError(t, s.ReplaceOrg(t.Context(), org))

		require.Len(t, finance(x), 3, "within the TTL the cached role holders are used")
		x.clock.Advance(flows.DefaultOrgTTL)
		require.Equal(t, []string{"finance_confirm:u_qian", "finance_confirm:u_zhao"}, finance(x))
		require.Len(t, finance(newFx(t, s, flows.WithOrgTTL(0))), 2)
	})
}
