package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/outbox"
)

// retentionFlow is an approval by Carol, then a task for Bob, with an SLA
// timer on each step.
const retentionFlow = `
id: retention
name: 保留测试
form: [{key: note, type: string}]
steps:
  - {id: approve, type: approval, assignees: {user: u-carol}, sla: 1d, on_timeout: {remind_every: 4h}}
  - {id: handle, type: task, assignees: {user: u-bob}, sla: 1d, on_timeout: {remind_every: 4h}}
`

// boundedTables are every table a running flow adds rows to.
var boundedTables = []string{"instances", "tasks", "audit", "timers", "outbox", "idempotency",
	"bot_cards", "bot_events", "order_instances"}

// retentionDays is how many days each table's rows are kept in
// testRetentionBounded: outbox and idempotency are stamped by the store's
// own clock, which the test's clock overtakes on the second day.
var retentionDays = map[string]int{"instances": 10, "tasks": 10, "audit": 10, "timers": 10, "order_instances": 10,
	"outbox": 1, "idempotency": 1, "bot_cards": 3, "bot_events": 2}

// retentionWorld runs flows the way a server does, on a clock the test
// moves: the engine commits, a "bot" records a card per task and per
// instance and an event per click, the "relay" marks the outbox sent.
type retentionWorld struct {
	t      *testing.T
	s      flows.Store
	bs     bot.Store
	engine *flows.Engine
	now    time.Time
	events int
}

func (w *retentionWorld) clock() time.Time { return w.now }

// card records that recipient's card of subject shows version.
func (w *retentionWorld) card(recipient, subject, instanceID string, version int64) {
	w.t.Helper()
	mustPutCard(w.t, w.bs, bot.CardMessage{CardKey: bot.CardKey{Platform: "feishu", Recipient: recipient, Subject: subject},
		InstanceID: instanceID, MessageID: "om_" + subject, StateVersion: version, Digest: "d",
		SentAt: w.now, UpdatedAt: w.now})
}

// click acts on a task as a card click would: the event is remembered and
// its id is the action's key.
func (w *retentionWorld) click(kind flows.ActionKind, actor, taskID string) flows.Result {
	w.t.Helper()
	w.events++
	id := fmt.Sprintf("evt-%d", w.events)
	first, _, err := w.bs.RememberEvent(w.t.Context(), bot.Event{Platform: "feishu", ID: id, At: w.now})
	require.NoError(w.t, err)
	require.True(w.t, first)
	act := flows.Action{Kind: kind, Actor: actor, Key: "feishu:" + id, TaskID: taskID}
	if kind == flows.ActReject {
		act.Comment = "预算不足"
	}
	res, err := w.engine.Act(w.t.Context(), act)
	require.NoError(w.t, err, "%s %s", kind, taskID)
	w.card(actor, taskID, res.InstanceID, res.Version)
	return res
}

// start starts an instance, links it to an order and records its cards.
func (w *retentionWorld) start(key string) flows.Result {
	w.t.Helper()
	res, err := w.engine.Start(w.t.Context(), flows.StartRequest{Actor: "u-alice", Key: "api:" + key, FlowID: "retention",
		Form: map[string]any{"note": key}})
	require.NoError(w.t, err, "start %s", key)
	require.NoError(w.t, asOrderStore(w.t, w.s).LinkOrderInstance(w.t.Context(),
		link(key, res.InstanceID, "retention", w.now)))
	w.card("u-alice", res.InstanceID, res.InstanceID, res.Version)
	for _, task := range res.Opened {
		w.card("u-carol", task, res.InstanceID, res.Version)
	}
	return res
}

// relay marks every committed message sent, as the outbox relay does.
func (w *retentionWorld) relay() {
	w.t.Helper()
	for {
		pending, err := w.s.PendingOutbox(w.t.Context(), 500)
		require.NoError(w.t, err)
		if len(pending) == 0 {
			return
		}
		seqs := make([]int64, len(pending))
		for i, m := range pending {
			seqs[i] = m.Seq
		}
		require.NoError(w.t, w.s.MarkOutboxSent(w.t.Context(), seqs))
	}
}

// testRetentionBounded runs flows to completion day after day, a digest
// posted every day, and a prune pass at the end of each day, and requires
// every table to stay within what its retention keeps, however many days
// run: the rows of the first day, times the days kept plus two. Two
// instances started on the first day stay running throughout and are kept
// whole.
func testRetentionBounded(t *testing.T, s flows.Store, count CountRowsFunc) {
	const (
		days   = 30
		perDay = 4
	)
	ctx := t.Context()
	w := &retentionWorld{t: t, s: s, bs: botStore(t, s), now: time.Now().Truncate(time.Millisecond)}
	w.engine = flows.NewEngine(s, flows.WithClock(w.clock))
	require.NoError(t, s.ReplaceOrg(ctx, SampleOrg()))
	f, err := flows.ParseFlow("retention.yaml", []byte(retentionFlow))
	require.NoError(t, err)
	_, err = w.engine.Register(ctx, f)
	require.NoError(t, err)

	day := 24 * time.Hour
	ip := instancePruner(t, s)
	loop := outbox.NewPruneLoop(pruner(t, s), outbox.PruneOptions{
		Holder: "pruner", Now: w.clock, BatchSize: 7, OutboxRetention: day, IdempotencyRetention: day,
		Tables: append([]outbox.PruneTable{{Name: "bot_events", Retention: 2 * day, Prune: w.bs.PruneEvents}},
			outbox.RetentionTables(ip, 10*day, 3*day)...),
	})
	running := []flows.Result{w.start("running-1"), w.start("running-2")}

	first := map[string]int64{}
	most := map[string]int64{}
	for d := range days {
		for k := range perDay {
			res := w.start(fmt.Sprintf("%d-%d", d, k))
			if k == 0 {
				w.click(flows.ActReject, "u-carol", res.Opened[0])
				continue
			}
			approved := w.click(flows.ActApprove, "u-carol", res.Opened[0])
			require.Len(t, approved.Opened, 1)
			w.card("u-bob", approved.Opened[0], res.InstanceID, approved.Version)
			done := w.click(flows.ActComplete, "u-bob", approved.Opened[0])
			require.Equal(t, flows.InstanceApproved, done.Status)
		}
		digest := fmt.Sprintf("digest/daily/%d", d)
		w.card("u-boss", digest, digest, 1)
		w.relay()

		w.now = w.now.Add(day)
		res, err := loop.Prune(ctx)
		require.NoError(t, err, "day %d", d)
		require.False(t, res.Skipped)
		for _, table := range boundedTables {
			n := count(t, s, table)
			if d == 0 {
				first[table] = n
			}
			most[table] = max(most[table], n)
			bound := first[table] * int64(retentionDays[table]+2)
			require.LessOrEqual(t, n, bound, "%s after day %d", table, d)
			// Without pruning a table would hold its first day's rows times
			// the days run: the bound is well below that.
			require.Less(t, bound, first[table]*days, table)
		}
	}
	t.Logf("%d days of %d flows; most rows after a pass: %v; after the first: %v", days, perDay, most, first)

	for _, r := range running {
		got, err := s.Instance(ctx, r.InstanceID)
		require.NoError(t, err, "a running instance is kept")
		require.Equal(t, flows.InstanceRunning, got.Status)
		tasks, err := s.Tasks(ctx, flows.TaskFilter{InstanceID: r.InstanceID})
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		cards, err := w.bs.InstanceCards(ctx, r.InstanceID)
		require.NoError(t, err)
		require.Len(t, cards, 2, "a running instance's cards are kept")
	}
}
