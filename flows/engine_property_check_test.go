package flows_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"cardflow/flows"
)

// checker reads back what the engine wrote and holds it to the invariants.
type checker struct {
	t   *rapid.T
	ctx context.Context
	s   flows.Store
	m   *model
}

// snapshot is everything stored about the check's instances.
type snapshot map[string]stored

type stored struct {
	inst   flows.Instance
	tasks  []flows.Task
	audit  []flows.AuditEntry
	outbox []flows.OutboxMessage
}

func (c *checker) snapshot() snapshot {
	msgs, err := c.s.PendingOutbox(c.ctx, 100000)
	require.NoError(c.t, err)
	out := snapshot{}
	for _, id := range c.m.insts {
		var s stored
		s.inst, err = c.s.Instance(c.ctx, id)
		require.NoError(c.t, err)
		s.tasks, err = c.s.Tasks(c.ctx, flows.TaskFilter{InstanceID: id, Limit: 1000})
		require.NoError(c.t, err)
		s.audit, err = c.s.Audit(c.ctx, id)
		require.NoError(c.t, err)
		for _, msg := range msgs {
			if msg.InstanceID == id {
				s.outbox = append(s.outbox, msg)
			}
		}
		out[id] = s
	}
	for _, msg := range msgs {
		if seq, ok := c.m.outbox[msg.Key]; ok {
			require.Equal(c.t, seq, msg.Seq, "outbox key %s written twice", msg.Key)
		}
		c.m.outbox[msg.Key] = msg.Seq
	}
	return out
}

// markSent marks the check's messages sent, so that later checks do not
// read them again.
func (c *checker) markSent() {
	seqs := make([]int64, 0, len(c.m.outbox))
	for _, seq := range c.m.outbox {
		seqs = append(seqs, seq)
	}
	require.NoError(c.t, c.s.MarkOutboxSent(c.ctx, seqs))
}

// send sends a request and checks what it did: a refused request, a replay
// and an answer about a task decided before changed nothing; anything else
// wrote one new version of one instance with an audit row.
func (w *world) send(rt *rapid.T, m *model, c *checker, req request) (flows.Result, error) {
	before := c.snapshot()
	res, err := req.send()
	m.last = &req
	if err == nil && req.op == "start" && !res.Replayed {
		m.insts = append(m.insts, res.InstanceID)
	}
	after := c.snapshot()
	if err != nil {
		require.Equal(rt, before, after, "%s %s refused (%v) but changed something", req.op, req.target, err)
		c.invariants(after)
		return res, err
	}
	if req.key != "" {
		c.answered(req, res)
	}
	changed := !res.Replayed && !res.AlreadyDecided
	for id, a := range after {
		b, existed := before[id]
		switch {
		case !changed || (existed && id != res.InstanceID):
			require.Equal(rt, b, a, "%s %s (replayed %v, already decided %v) changed instance %s", req.op, req.target, res.Replayed, res.AlreadyDecided, id)
		case !existed:
			require.EqualValues(rt, 1, a.inst.Version)
			require.NotEmpty(rt, a.audit, "start of %s wrote no audit row", id)
		default:
			require.Equal(rt, b.inst.Version+1, a.inst.Version, "%s %s", req.op, req.target)
			require.Greater(rt, len(a.audit), len(b.audit), "%s %s wrote no audit row", req.op, req.target)
		}
	}
	if changed {
		require.Equal(rt, after[res.InstanceID].inst.Version, res.Version, "%s answered another version than it wrote", req.op)
	}
	c.invariants(after)
	return res, nil
}

// answered checks a keyed answer against the key's first answer.
func (c *checker) answered(req request, res flows.Result) {
	first, seen := c.m.answers[req.key]
	switch {
	case res.Replayed:
		require.True(c.t, seen, "%s %s replayed key %s never answered", req.op, req.target, req.key)
		res.Replayed = false
		require.Equal(c.t, first.first, res, "replayed key %s", req.key)
	case seen:
		c.t.Fatalf("key %s applied twice: first %+v, now %+v", req.key, first.first, res)
	case !res.AlreadyDecided:
		c.m.answers[req.key] = keyUse{req: req, first: res}
		c.m.keys = append(c.m.keys, req.key)
	}
}

// replay sends a key answered before again: with its own request it gets
// the first answer, with another operation it is refused.
func (w *world) replay(rt *rapid.T, m *model, c *checker) {
	if len(m.keys) == 0 {
		return
	}
	key := rapid.SampledFrom(m.keys).Draw(rt, "replayed key")
	use := m.answers[key]
	if rapid.Bool().Draw(rt, "same request") {
		res, err := w.send(rt, m, c, use.req)
		require.NoError(rt, err, "replayed key %s", key)
		require.True(rt, res.Replayed, "%s %s with key %s not replayed", use.req.op, use.req.target, key)
		return
	}
	ctx, actor, e := rt.Context(), rapid.SampledFrom(propUsers).Draw(rt, "actor"), w.engine(rt)
	other := request{op: "comment", target: use.first.InstanceID, key: key, send: func() (flows.Result, error) {
		return e.Comment(ctx, flows.CommentRequest{Actor: actor, Key: key, InstanceID: use.first.InstanceID, Text: "again"})
	}}
	if use.req.op == "comment" {
		other = request{op: "approve", target: "none.t0001", key: key, send: func() (flows.Result, error) {
			return e.Approve(ctx, flows.DecideRequest{Actor: actor, Key: key, TaskID: "none.t0001"})
		}}
	}
	_, err := w.send(rt, m, c, other)
	require.ErrorIs(rt, err, flows.ErrKeyReused, "key %s of %s %s reused for %s %s", key, use.req.op, use.req.target, other.op, other.target)
}

// concurrent double-clicks: the same decision sent twice at once, both
// with or both without a key. At most one of them changes the instance.
func (w *world) concurrent(rt *rapid.T, m *model, c *checker) {
	req := w.taskOp(rt, m)
	if !slices.Contains([]string{"approve", "reject", "complete", "return"}, req.op) {
		return
	}
	before := c.snapshot()
	var wg sync.WaitGroup
	results := make([]flows.Result, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { results[i], errs[i] = req.send() })
	}
	wg.Wait()
	after := c.snapshot()
	applied, inst := 0, ""
	for i, res := range results {
		if errs[i] == nil && !res.Replayed && !res.AlreadyDecided {
			applied++
			inst = res.InstanceID
			if req.key != "" {
				c.answered(req, res)
			}
		}
	}
	require.LessOrEqual(rt, applied, 1, "a double click decided twice: %+v, %v", results, errs)
	for i, res := range results {
		if errs[i] == nil && res.Replayed {
			c.answered(req, res)
		}
	}
	for id, a := range after {
		want := before[id].inst.Version
		if id == inst {
			want++
		}
		require.Equal(rt, want, a.inst.Version, "double click on %s: %+v, %v", req.target, results, errs)
	}
	m.last = &req
	c.invariants(after)
}

// invariants are the states no instance may ever be in.
func (c *checker) invariants(snap snapshot) {
	for id, s := range snap {
		finished := s.inst.Status != flows.InstanceRunning
		undecided := map[string]bool{}
		open := 0
		for _, t := range s.tasks {
			if t.Status == flows.TaskOpen || t.Status == flows.TaskWaiting {
				require.False(c.t, finished, "%s instance %s has %s task %s", s.inst.Status, id, t.Status, t.ID)
				k := t.StepID + ":" + t.Assignee
				require.False(c.t, undecided[k], "two undecided tasks %s in %s", k, id)
				undecided[k] = true
				if t.Status == flows.TaskOpen {
					open++
				}
				continue
			}
			if first, ok := c.m.decided[t.ID]; ok {
				require.Equal(c.t, first, t, "decided task %s changed", t.ID)
			}
			c.m.decided[t.ID] = t
			require.NotEmpty(c.t, t.DecidedBy, "task %s (%s) has no decider", t.ID, t.Status)
		}
		if !finished {
			require.Positive(c.t, open, "running instance %s has no open task: %+v", id, s.tasks)
		}
		c.replays(s)
	}
}

// replays derives the instance's status and its decided tasks from the
// audit trail alone and compares them with the stored rows.
func (c *checker) replays(s stored) {
	decisions := map[string]flows.TaskStatus{"approve": flows.TaskApproved, "auto_approve": flows.TaskApproved,
		"reject": flows.TaskRejected, "complete": flows.TaskDone, "resubmit": flows.TaskDone,
		"delegate_done": flows.TaskDone, "return": flows.TaskReturned,
		"transfer": flows.TaskCancelled, "remove_signer": flows.TaskCancelled}
	var status flows.InstanceStatus
	byAudit := map[string]flows.TaskStatus{}
	for _, a := range s.audit {
		switch a.Action {
		case "start":
			status = flows.InstanceRunning
		case "end":
			var d struct{ Status flows.InstanceStatus }
			require.NoError(c.t, json.Unmarshal(a.Detail, &d))
			status = d.Status
		case "withdraw":
			status = flows.InstanceWithdrawn
		case "cancel":
			status = flows.InstanceCancelled
		}
		if st, ok := decisions[a.Action]; ok && a.TaskID != "" {
			_, twice := byAudit[a.TaskID]
			require.False(c.t, twice, "task %s decided twice in the audit trail", a.TaskID)
			byAudit[a.TaskID] = st
		}
	}
	require.Equal(c.t, s.inst.Status, status, "audit trail of %s replays to another status", s.inst.ID)
	byRows := map[string]flows.TaskStatus{}
	for _, t := range s.tasks {
		switch t.Status {
		case flows.TaskApproved, flows.TaskRejected, flows.TaskDone, flows.TaskReturned:
			byRows[t.ID] = t.Status
		case flows.TaskCancelled:
			if _, ok := byAudit[t.ID]; ok {
				byRows[t.ID] = t.Status
			}
		}
	}
	require.Equal(c.t, byAudit, byRows, "audit trail of %s replays to other decided tasks", s.inst.ID)
}
