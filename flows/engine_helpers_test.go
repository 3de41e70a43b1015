package flows_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/internal/testclock"
	"cardflow/storage/postgres"
	"cardflow/storage/postgres/pgtest"
	"cardflow/storage/sqlite"
)

// t0 is when every test's clock starts. Stores read times back in UTC.
var t0 = time.Date(2025, 3, 14, 1, 0, 0, 0, time.UTC)

// backend opens a fresh, empty store.
type backend struct {
	name string
	open func(t testing.TB) flows.Store
}

// backends are the stores every engine test runs on.
var backends = []backend{
	{name: "sqlite", open: openSQLite},
	{name: "postgres", open: openPostgres},
}

func openSQLite(t testing.TB) flows.Store {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func openPostgres(t testing.TB) flows.Store {
	s, err := postgres.Open(t.Context(), pgtest.SchemaDSN(t), postgres.Options{Migrate: true, MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// onStores runs fn once per backend, in parallel, each on a fresh store
// holding the example org and the example and test flows.
func onStores(t *testing.T, fn func(t *testing.T, s flows.Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			seed(t, s)
			fn(t, s)
		})
	}
}

var (
	fixtureOnce  sync.Once
	fixtureOrg   flows.Org
	fixtureFlows []*flows.Flow
	fixtureErr   error
)

// seed loads the example org and registers the example flows and the test
// flows of testFlows.
func seed(t testing.TB, s flows.Store) {
	t.Helper()
	fixtureOnce.Do(func() {
		src, err := os.ReadFile(filepath.Join("..", "configs", "org.example.yaml"))
		if err != nil {
			fixtureErr = err
			return
		}
		if fixtureOrg, fixtureErr = flows.ParseOrg("org.example.yaml", src); fixtureErr != nil {
			return
		}
		if fixtureFlows, fixtureErr = flows.LoadDir(filepath.Join("..", "configs", "flows")); fixtureErr != nil {
			return
		}
		for name, src := range testFlows {
			f, err := flows.ParseFlow(name+".yaml", []byte(src))
			if err != nil {
				fixtureErr = err
				return
			}
			fixtureFlows = append(fixtureFlows, f)
		}
	})
	require.NoError(t, fixtureErr)
	require.NoError(t, s.ReplaceOrg(t.Context(), fixtureOrg))
	_, err := flows.NewEngine(s, flows.WithClock(func() time.Time { return t0 })).Register(t.Context(), fixtureFlows...)
	require.NoError(t, err)
}

// fx is one test's engine on a shared store, with its own clock.
type fx struct {
	t     *testing.T
	s     flows.Store
	e     *flows.Engine
	clock *testclock.Clock
}

func newFx(t *testing.T, s flows.Store, opts ...flows.Option) *fx {
	c := testclock.New(t0)
	opts = append([]flows.Option{flows.WithClock(c.Now)}, opts...)
	return &fx{t: t, s: s, e: flows.NewEngine(s, opts...), clock: c}
}

func (x *fx) start(flow, applicant string, form map[string]any) string {
	x.t.Helper()
	req := flows.StartRequest{Actor: applicant, FlowID: flow, Form: form}
	if applicant == flows.SystemActor { // started by a trigger event: nobody's request
		req = flows.StartRequest{Event: "test.event", FlowID: flow, Form: form}
	}
	res, err := x.e.Start(x.t.Context(), req)
	require.NoError(x.t, err)
	return res.InstanceID
}

// tasks returns every task of an instance, oldest first.
func (x *fx) tasks(inst string) []flows.Task {
	x.t.Helper()
	ts, err := x.s.Tasks(x.t.Context(), flows.TaskFilter{InstanceID: inst, Limit: 1000})
	require.NoError(x.t, err)
	return ts
}

// open returns "step:user" of the instance's open tasks, sorted.
func (x *fx) open(inst string) []string {
	x.t.Helper()
	return x.withStatus(inst, flows.TaskOpen)
}

func (x *fx) withStatus(inst string, status flows.TaskStatus) []string {
	x.t.Helper()
	var out []string
	for _, t := range x.tasks(inst) {
		if t.Status == status {
			out = append(out, t.StepID+":"+t.Assignee)
		}
	}
	slices.Sort(out)
	return out
}

// task returns the one open (or waiting) task of user at step.
func (x *fx) task(inst, step, user string) flows.Task {
	x.t.Helper()
	var found []flows.Task
	for _, t := range x.tasks(inst) {
		if t.StepID == step && t.Assignee == user && (t.Status == flows.TaskOpen || t.Status == flows.TaskWaiting) {
			found = append(found, t)
		}
	}
	require.Len(x.t, found, 1, "undecided tasks of %s at %s in %s", user, step, inst)
	return found[0]
}

// last returns the latest task of user at step, whatever its status.
func (x *fx) last(inst, step, user string) flows.Task {
	x.t.Helper()
	var found *flows.Task
	for _, t := range x.tasks(inst) {
		if t.StepID == step && t.Assignee == user {
			found = &t
		}
	}
	require.NotNil(x.t, found, "no task of %s at %s in %s", user, step, inst)
	return *found
}

func (x *fx) approve(inst, step, user string) flows.Result {
	x.t.Helper()
	res, err := x.e.Approve(x.t.Context(), flows.DecideRequest{Actor: user, TaskID: x.task(inst, step, user).ID, Comment: "同意"})
	require.NoError(x.t, err)
	require.False(x.t, res.AlreadyDecided)
	return res
}

func (x *fx) reject(inst, step, user string) flows.Result {
	x.t.Helper()
	res, err := x.e.Reject(x.t.Context(), flows.DecideRequest{Actor: user, TaskID: x.task(inst, step, user).ID, Comment: "不同意"})
	require.NoError(x.t, err)
	return res
}

func (x *fx) complete(inst, step, user string, result map[string]any) flows.Result {
	x.t.Helper()
	res, err := x.e.Complete(x.t.Context(), flows.CompleteRequest{Actor: user, TaskID: x.task(inst, step, user).ID, Result: result})
	require.NoError(x.t, err)
	return res
}

func (x *fx) returnTo(inst, step, user, to string) flows.Result {
	x.t.Helper()
	res, err := x.e.Return(x.t.Context(), flows.ReturnRequest{Actor: user, TaskID: x.task(inst, step, user).ID, To: to, Comment: "请修改"})
	require.NoError(x.t, err)
	return res
}

func (x *fx) instance(inst string) flows.Instance {
	x.t.Helper()
	i, err := x.s.Instance(x.t.Context(), inst)
	require.NoError(x.t, err)
	return i
}

func (x *fx) status(inst string) flows.InstanceStatus {
	x.t.Helper()
	return x.instance(inst).Status
}

// actions returns the audit trail as "action" or "action:step" for the
// engine's own step entries, in order.
func (x *fx) actions(inst string) []string {
	x.t.Helper()
	entries, err := x.s.Audit(x.t.Context(), inst)
	require.NoError(x.t, err)
	out := make([]string, len(entries))
	for i, e := range entries {
		var d struct{ Step string }
		if len(e.Detail) > 0 {
			require.NoError(x.t, json.Unmarshal(e.Detail, &d))
		}
		out[i] = e.Action
		if e.Actor == flows.SystemActor && d.Step != "" {
			out[i] += ":" + d.Step
		}
	}
	return out
}

// intents returns the notification intents committed for an instance.
func (x *fx) intents(inst string) []flows.NotificationIntent {
	x.t.Helper()
	msgs, err := x.s.PendingOutbox(x.t.Context(), 100000)
	require.NoError(x.t, err)
	var out []flows.NotificationIntent
	for _, m := range msgs {
		if m.InstanceID != inst {
			continue
		}
		require.Equal(x.t, flows.NotifyTopic, m.Topic)
		var n flows.NotificationIntent
		require.NoError(x.t, json.Unmarshal(m.Payload, &n))
		require.Equal(x.t, m.Key, n.Key)
		out = append(out, n)
	}
	return out
}

// intentsOf returns "kind:recipient" of an instance's intents, in order.
func (x *fx) intentsOf(inst string, kinds ...string) []string {
	x.t.Helper()
	var out []string
	for _, n := range x.intents(inst) {
		if len(kinds) == 0 || slices.Contains(kinds, n.Kind) {
			out = append(out, n.Kind+":"+n.Recipient)
		}
	}
	return out
}

// checkInvariants fails on states no instance may ever be in: a finished
// instance with an undecided task, two undecided tasks of one user at one
// step, a decided task without who and when.
func (x *fx) checkInvariants(inst string) {
	x.t.Helper()
	i := x.instance(inst)
	seen := map[string]bool{}
	for _, t := range x.tasks(inst) {
		undecided := t.Status == flows.TaskOpen || t.Status == flows.TaskWaiting
		if i.Status != flows.InstanceRunning {
			require.False(x.t, undecided, "finished instance %s has %s task %s at %s", inst, t.Status, t.Assignee, t.StepID)
		}
		if undecided {
			k := t.StepID + ":" + t.Assignee
			require.False(x.t, seen[k], "two undecided tasks %s in %s", k, inst)
			seen[k] = true
			continue
		}
		require.NotEmpty(x.t, t.DecidedBy, "task %s (%s) has no decider", t.ID, t.Status)
		require.False(x.t, t.DecidedAt.IsZero(), "task %s (%s) has no decision time", t.ID, t.Status)
	}
}

// form helpers for the example flows.
func orderForm(amount string) map[string]any {
	return map[string]any{"order_no": "TM-1001", "platform": "tmall", "amount": amount, "cost": "100",
		"items": []any{map[string]any{"sku": "SKU-1", "qty": 1, "price": amount}}}
}

func purchaseForm(amount string) map[string]any {
	return map[string]any{"title": "包材", "supplier": "某纸业", "requester": "u_chu", "amount": amount,
		"needed_by": "2025-12-01", "lines": []any{map[string]any{"sku": "BOX-1", "qty": 10, "unit_price": "1"}}}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// split splits "step:user".
func split(s string) (string, string) {
	step, user, _ := strings.Cut(s, ":")
	return step, user
}

// jsonField returns one field of a JSON object as raw JSON.
func jsonField(t testing.TB, raw json.RawMessage, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return string(m[key])
}

func joinLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// auditOf returns the audit entries of an instance with the given action.
func (x *fx) auditOf(inst, action string) []flows.AuditEntry {
	x.t.Helper()
	all, err := x.s.Audit(x.t.Context(), inst)
	require.NoError(x.t, err)
	var out []flows.AuditEntry
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}
