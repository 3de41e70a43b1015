package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/outbox"
)

func retentionTests(count CountRowsFunc) []suiteTest {
	return []suiteTest{
		storeTest("finished instances: only finished, only older, in batches, with all they own", func(t *testing.T, s flows.Store) {
			testPruneInstances(t, s, count)
		}),
		storeTest("card records: finished instances' and posts', only older", testPruneCards),
		storeTest("retention: a zero limit deletes nothing", testPruneRetentionZero),
		storeTest("every table stays bounded while flows run day after day", func(t *testing.T, s flows.Store) {
			testRetentionBounded(t, s, count)
		}),
	}
}

func instancePruner(t *testing.T, s flows.Store) outbox.InstancePruner {
	t.Helper()
	p, ok := s.(outbox.InstancePruner)
	require.True(t, ok, "%T must implement outbox.InstancePruner", s)
	return p
}

func botStore(t *testing.T, s flows.Store) bot.Store {
	t.Helper()
	bs, ok := s.(bot.Store)
	require.True(t, ok, "%T must implement bot.Store as well", s)
	return bs
}

// retained is one instance of the retention tests: created a month ago,
// finished (status) at finished, or running when status is running.
type retained struct {
	id       string
	status   flows.InstanceStatus
	finished time.Time
}

// seedRetained stores inst with a task, a timer, two audit rows, two outbox
// messages (the first sent), a card and an order link, as a flow leaves them.
func seedRetained(t *testing.T, s flows.Store, r retained, created time.Time) {
	t.Helper()
	ctx := t.Context()
	inst := NewInstance(r.id)
	inst.Status, inst.CreatedAt, inst.UpdatedAt = r.status, created, r.finished
	c := StartChange(inst, NewTask(r.id, r.id+"-t1", "u-bob"))
	c.NewTimers = []flows.Timer{NewTimer(r.id, r.id+"-timer", created.Add(time.Hour))}
	c.Audit = append(c.Audit, NewAudit(r.id, "approve", "u-bob"))
	applied := MustApply(t, s, c)
	require.NoError(t, s.MarkOutboxSent(ctx, applied.OutboxSeqs))
	// The unsent message is a later commit's: a store may keep the
	// messages of one commit together until all of them are sent.
	MustApply(t, s, flows.Change{Outbox: []flows.OutboxMessage{NewOutbox(r.id, r.id+"/unsent")}})
	card := NewCard("feishu", "u-bob", r.id+"-t1", 2)
	card.InstanceID = r.id
	mustPutCard(t, botStore(t, s), card)
	require.NoError(t, asOrderStore(t, s).LinkOrderInstance(ctx, link("1001", r.id, "purchase", created)))
}

// testPruneInstances deletes finished instances with what hangs off them,
// oldest first, and leaves the running and recent ones whole. The outbox
// stamps sent messages with the store's clock, so the instances' times are
// set around the wall clock here.
func testPruneInstances(t *testing.T, s flows.Store, count CountRowsFunc) {
	ctx := t.Context()
	p := instancePruner(t, s)
	created := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Millisecond)
	before := hourFromNow()
	all := []retained{
		{id: "i-approved", status: flows.InstanceApproved, finished: created.Add(time.Hour)},
		{id: "i-rejected", status: flows.InstanceRejected, finished: created.Add(2 * time.Hour)},
		{id: "i-withdrawn", status: flows.InstanceWithdrawn, finished: created.Add(3 * time.Hour)},
		{id: "i-running", status: flows.InstanceRunning, finished: created.Add(time.Hour)},
		{id: "i-recent", status: flows.InstanceCancelled, finished: before.Add(time.Minute)},
	}
	for i, r := range all {
		// Created a minute apart, in the order above: the oldest go first.
		seedRetained(t, s, r, created.Add(time.Duration(i)*time.Minute))
	}
	tables := []string{"instances", "tasks", "timers", "audit", "outbox", "bot_cards", "order_instances"}
	counts := func() map[string]int64 {
		m := map[string]int64{}
		for _, table := range tables {
			m[table] = count(t, s, table)
		}
		return m
	}
	// Each instance has one row in each table, two audit rows and two
	// outbox messages; a deleted one leaves its unsent message behind.
	rows := func(kept, deleted int64) map[string]int64 {
		return map[string]int64{"instances": kept, "tasks": kept, "timers": kept, "audit": 2 * kept,
			"outbox": 2*kept + deleted, "bot_cards": kept, "order_instances": kept}
	}
	require.Equal(t, rows(5, 0), counts())

	steps := []struct {
		name   string
		before time.Time
		limit  int
		want   int
		gone   []string
	}{
		{name: "none finished before the cutoff", before: created.Add(time.Hour), limit: 10, want: 0},
		{name: "no limit, nothing", before: before, limit: 0, want: 0},
		{name: "a batch of one: the oldest", before: before, limit: 1, want: 1, gone: []string{"i-approved"}},
		{name: "the other two", before: before, limit: 5, want: 2, gone: []string{"i-rejected", "i-withdrawn"}},
		{name: "running and recent ones are kept", before: before, limit: 5, want: 0},
	}
	deleted := 0
	for _, step := range steps {
		n, err := p.PruneInstances(ctx, step.before, step.limit)
		require.NoError(t, err, step.name)
		require.Equal(t, step.want, n, step.name)
		deleted += n
		require.Equal(t, rows(int64(5-deleted), int64(deleted)), counts(), step.name)
		for _, id := range step.gone {
			_, err := s.Instance(ctx, id)
			require.ErrorIs(t, err, flows.ErrNotFound, "%s: %s", step.name, id)
		}
	}
	for _, id := range []string{"i-running", "i-recent"} {
		got, err := s.Instance(ctx, id)
		require.NoError(t, err, id)
		require.Equal(t, id, got.ID)
		audit, err := s.Audit(ctx, id)
		require.NoError(t, err)
		require.Len(t, audit, 2, id)
		cards, err := botStore(t, s).InstanceCards(ctx, id)
		require.NoError(t, err)
		require.Len(t, cards, 1, id)
	}
	links, err := asOrderStore(t, s).OrderInstances(ctx, "taobao", "云栖旗舰店", "1001", 10)
	require.NoError(t, err)
	require.Len(t, links, 2)
	// The unsent messages of deleted instances are still relayed.
	pending, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Len(t, pending, 5)
}

// testPruneCards deletes the card records of instances finished before the
// cutoff, and posts last written before it, oldest sent first.
func testPruneCards(t *testing.T, s flows.Store) {
	ctx := t.Context()
	p := instancePruner(t, s)
	bs := botStore(t, s)
	for _, r := range []retained{
		{id: "i-done", status: flows.InstanceApproved, finished: At(time.Hour)},
		{id: "i-running", status: flows.InstanceRunning, finished: At(time.Hour)},
		{id: "i-recent", status: flows.InstanceRejected, finished: At(48 * time.Hour)},
	} {
		inst := NewInstance(r.id)
		inst.Status, inst.UpdatedAt = r.status, r.finished
		MustApply(t, s, StartChange(inst))
	}
	card := func(recipient, subject, instance string, sent time.Time) bot.CardMessage {
		c := NewCard("feishu", recipient, subject, 3)
		c.InstanceID, c.SentAt, c.UpdatedAt = instance, sent, sent.Add(time.Minute)
		return c
	}
	old, recentPost := "digest/daily/2025-03-14T09:00", "digest/daily/2025-03-16T09:00"
	kept := []bot.CardMessage{
		card("u-bob", "i-running-t1", "i-running", BaseTime),
		card("u-bob", "i-recent", "i-recent", At(2*time.Minute)),
		card("u-bob", recentPost, recentPost, At(48*time.Hour)),
	}
	for _, c := range append([]bot.CardMessage{
		card("u-carol", "i-done", "i-done", At(time.Second)),
		card("u-bob", "i-done-t1", "i-done", At(2*time.Second)),
		card("u-bob", old, old, At(3*time.Second)),
	}, kept...) {
		mustPutCard(t, bs, c)
	}

	cutoff := At(24 * time.Hour)
	for _, step := range []struct {
		name  string
		limit int
		want  int
		gone  bot.CardKey
	}{
		{name: "no limit, nothing", limit: 0, want: 0},
		{name: "the oldest sent", limit: 1, want: 1, gone: bot.CardKey{Platform: "feishu", Recipient: "u-carol", Subject: "i-done"}},
		{name: "the other finished card and the old post", limit: 3, want: 2,
			gone: bot.CardKey{Platform: "feishu", Recipient: "u-bob", Subject: old}},
		{name: "running, recent and new posts are kept", limit: 3, want: 0},
	} {
		n, err := p.PruneCards(ctx, cutoff, step.limit)
		require.NoError(t, err, step.name)
		require.Equal(t, step.want, n, step.name)
		if step.gone != (bot.CardKey{}) {
			_, err := bs.Card(ctx, step.gone)
			require.ErrorIs(t, err, bot.ErrNotFound, step.name)
		}
	}
	for _, c := range kept {
		requireStoredCard(t, bs, c)
	}
	got, err := s.Instance(ctx, "i-done")
	require.NoError(t, err, "pruning cards keeps the instance")
	require.Equal(t, flows.InstanceApproved, got.Status)
}

func testPruneRetentionZero(t *testing.T, s flows.Store) {
	p := instancePruner(t, s)
	inst := NewInstance("i-1")
	inst.Status = flows.InstanceApproved
	MustApply(t, s, StartChange(inst))
	for _, limit := range []int{0, -1} {
		n, err := p.PruneInstances(t.Context(), hourFromNow(), limit)
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = p.PruneCards(t.Context(), hourFromNow(), limit)
		require.NoError(t, err)
		require.Zero(t, n)
	}
	_, err := s.Instance(t.Context(), "i-1")
	require.NoError(t, err)
}
