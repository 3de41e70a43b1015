package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/queue"
	"cardflow/storage/sqlite"
)

// fakePlatform records what the pipeline sends and updates, per reader and
// message, and fails the next calls when told to.
type fakePlatform struct {
	mu      sync.Mutex
	n       int
	shown   map[string]bot.Card // message id → card shown
	owner   map[string]string   // message id → reader
	sends   int
	updates int
	updated map[string]int // message id → updates
	fail    []error
	// hold, when set, is called by every Send and Update before it acts,
	// outside the lock: a test blocks in it to keep a call in flight.
	hold func(to bot.Reader)
}

func newFakePlatform() *fakePlatform {
	return &fakePlatform{shown: map[string]bot.Card{}, owner: map[string]string{}, updated: map[string]int{}}
}

func (f *fakePlatform) Name() string { return "sim" }

func (f *fakePlatform) Send(_ context.Context, to bot.Reader, c bot.Card) (bot.Sent, error) {
	if f.hold != nil {
		f.hold(to)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.popFail(); err != nil {
		return bot.Sent{}, err
	}
	f.n++
	id := fmt.Sprintf("m%d", f.n)
	f.shown[id], f.owner[id] = c, to.UserID
	f.sends++
	return bot.Sent{MessageID: id}, nil
}

func (f *fakePlatform) Update(_ context.Context, to bot.Reader, m bot.CardMessage, c bot.Card) (bot.Sent, error) {
	if f.hold != nil {
		f.hold(to)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.popFail(); err != nil {
		return bot.Sent{}, err
	}
	if f.owner[m.MessageID] != to.UserID {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("message %s is not %s's", m.MessageID, to.UserID))
	}
	f.shown[m.MessageID] = c
	f.updates++
	f.updated[m.MessageID]++
	return bot.Sent{MessageID: m.MessageID}, nil
}

func (f *fakePlatform) popFail() error {
	if len(f.fail) == 0 {
		return nil
	}
	err := f.fail[0]
	f.fail = f.fail[1:]
	return err
}

// cardsOf returns what a reader's chat shows, by subject.
func (f *fakePlatform) cardsOf(user string) map[string]bot.Card {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bot.Card{}
	for id, c := range f.shown {
		if f.owner[id] == user {
			out[c.Subject] = c
		}
	}
	return out
}

func (f *fakePlatform) counts() (sends, updates int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends, f.updates
}

// stateRenderer renders the state a card must reflect and nothing else: the
// reader's task status, or the instance status, at the instance version.
type stateRenderer struct{ e *flows.Engine }

func (s stateRenderer) TaskCard(ctx context.Context, r bot.Reader, taskID string, _ *flows.NotificationIntent) (bot.Card, error) {
	v, err := s.e.Instance(ctx, r.UserID, instanceOf(taskID))
	if err != nil {
		return bot.Card{}, err
	}
	for _, t := range v.Tasks {
		if t.ID == taskID {
			c := bot.Card{InstanceID: v.Instance.ID, Version: v.Instance.Version, Title: v.Instance.Title, Status: bot.StatusPending}
			if t.Status == flows.TaskOpen {
				c.Buttons = []bot.Button{{Label: "同意", Action: flows.ActApprove,
					Payload: bot.Payload{TaskID: t.ID, Version: v.Instance.Version}.String()}}
			} else {
				c.Status, c.StatusLine = bot.StatusDone, t.Outcome+" by "+t.DecidedBy
			}
			return c, nil
		}
	}
	return bot.Card{}, flows.ErrNotFound
}

func (s stateRenderer) InstanceCard(ctx context.Context, r bot.Reader, id string, _ *flows.NotificationIntent) (bot.Card, error) {
	v, err := s.e.Instance(ctx, r.UserID, id)
	if err != nil {
		return bot.Card{}, err
	}
	return bot.Card{InstanceID: id, Version: v.Instance.Version, Title: v.Instance.Title, StatusLine: string(v.Instance.Status)}, nil
}

func (s stateRenderer) Notice(_ context.Context, _ bot.Reader, n flows.NotificationIntent) (bot.Card, error) {
	return bot.Card{InstanceID: n.InstanceID, Version: n.Version, Text: n.Comment}, nil
}

func instanceOf(taskID string) string {
	for i := len(taskID) - 1; i >= 0; i-- {
		if taskID[i] == '.' {
			return taskID[:i]
		}
	}
	return taskID
}

type fixture struct {
	t        *testing.T
	store    *sqlite.Store
	engine   *flows.Engine
	platform *fakePlatform
	pipeline *bot.Pipeline
	actions  *bot.Actions
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, engine := exampletest.World(t)
	pl := newFakePlatform()
	render := stateRenderer{engine}
	p, err := bot.NewPipeline(bot.PipelineDeps{Platforms: map[string]bot.Platform{"sim": pl}, Store: store,
		Directory: store, Render: render})
	require.NoError(t, err)
	router := bot.NewRouter()
	bot.RegisterCommands(router, engine, render)
	acts := bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: store, Render: render, Router: router})
	return &fixture{t: t, store: store, engine: engine, platform: pl, pipeline: p, actions: acts}
}

// pending returns the intents committed since the last call, in commit
// order, as the relay would publish them.
func (x *fixture) pending() []queue.Message {
	x.t.Helper()
	msgs, err := x.store.PendingOutbox(x.t.Context(), 1000)
	require.NoError(x.t, err)
	var out []queue.Message
	var seqs []int64
	for _, m := range msgs {
		out = append(out, queue.Message{ID: m.Key, Key: m.InstanceID, Payload: m.Payload})
		seqs = append(seqs, m.Seq)
	}
	require.NoError(x.t, x.store.MarkOutboxSent(x.t.Context(), seqs))
	return out
}

func (x *fixture) deliver(msgs []queue.Message) {
	x.t.Helper()
	for _, m := range msgs {
		require.NoError(x.t, x.pipeline.Handle(x.t.Context(), m))
	}
}

func (x *fixture) start(amount string) (string, []string) {
	x.t.Helper()
	res, err := x.engine.Start(x.t.Context(), flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
		"order_no": "TM-1001", "platform": "tmall", "amount": amount,
		"items": []any{map[string]any{"sku": "SKU-1", "qty": 1, "price": amount}}}})
	require.NoError(x.t, err)
	return res.InstanceID, res.Opened
}

func TestEveryCopyChangesAfterADecision(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	inst, opened := x.start("500.00")
	x.deliver(x.pending())
	for _, u := range []string{"u_qian", "u_sun", "u_zhao"} {
		cards := x.platform.cardsOf(u)
		require.Len(t, cards, 1, "%s has a task card", u)
		for _, c := range cards {
			require.NotEmpty(t, c.Buttons)
		}
	}

	reply, err := x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "ev-1", PlatformUserID: "qian",
		Payload: x.platform.cardsOf("u_qian")[opened[0]].Buttons[0].Payload, Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	require.Empty(t, reply.Card.Buttons, "the clicker's card shows the decision")

	x.deliver(x.pending())
	for _, u := range []string{"u_qian", "u_sun", "u_zhao"} {
		for _, c := range x.platform.cardsOf(u) {
			require.Empty(t, c.Buttons, "%s's copy lost its buttons", u)
			require.Equal(t, "approve by u_qian", c.StatusLine, u)
		}
	}
	require.Equal(t, "running", x.platform.cardsOf("u_chen")[inst].StatusLine, "the applicant hears of the decision")

	// A late click on the co-signer's stale card: told, nothing changes.
	sunTask := ""
	for s := range x.platform.cardsOf("u_sun") {
		sunTask = s
	}
	reply, err = x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "ev-2", PlatformUserID: "sun",
		Payload: bot.Payload{TaskID: sunTask, Version: 1}.String(), Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastInfo, reply.Toast.Kind)
	require.Contains(t, reply.Toast.Text, "已由 钱多多 于")
	require.Contains(t, reply.Toast.Text, "同意")
}

func TestDuplicatedAndReorderedIntentsNeverShowAnOlderState(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	_, opened := x.start("500.00")
	first := x.pending()
	x.deliver(first)
	_, err := x.engine.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: opened[0]})
	require.NoError(t, err)
	second := x.pending()
	x.deliver(second)
	sends, updates := x.platform.counts()
	before := x.platform.cardsOf("u_sun")

	x.deliver(first)  // late copies of the first commit's intents
	x.deliver(second) // and a duplicate of the second's
	s2, u2 := x.platform.counts()
	require.Equal(t, sends, s2, "nothing sent again")
	require.Equal(t, updates, u2, "nothing updated again")
	require.Equal(t, before, x.platform.cardsOf("u_sun"))
}

func TestPlatformFailuresAreClassified(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	x.start("500.00")
	msgs := x.pending()
	x.platform.fail = []error{queue.RateLimited(errors.New("429"), 3*time.Second)}
	err := x.pipeline.Handle(t.Context(), msgs[0])
	after, limited := queue.RetryAfter(err)
	require.True(t, limited, "a platform's rate limit reaches the queue: %v", err)
	require.Equal(t, 3*time.Second, after)
	require.NoError(t, x.pipeline.Handle(t.Context(), msgs[0]), "the retry delivers")

	x.platform.fail = []error{queue.Permanent(errors.New("user not found"))}
	err = x.pipeline.Handle(t.Context(), msgs[1])
	require.True(t, queue.IsPermanent(err), "a permanent failure dead-letters: %v", err)

	err = x.pipeline.Handle(t.Context(), queue.Message{ID: "bad", Payload: []byte("{")})
	require.True(t, queue.IsPermanent(err))
}

// countedRender counts the task cards rendered.
type countedRender struct {
	stateRenderer
	tasks atomic.Int64
}

func (c *countedRender) TaskCard(ctx context.Context, r bot.Reader, taskID string, n *flows.NotificationIntent) (bot.Card, error) {
	c.tasks.Add(1)
	return c.stateRenderer.TaskCard(ctx, r, taskID, n)
}

// TestALimitedDeliveryIsPutOffBeforeItsRender: when the platform's limit
// has no slot soon, a delivery goes back to the queue with the wait for
// its place in line before its card is rendered; back at its place it
// renders and sends.
func TestALimitedDeliveryIsPutOffBeforeItsRender(t *testing.T) {
	t.Parallel()
	store, engine := exampletest.World(t)
	pl := newFakePlatform()
	render := &countedRender{stateRenderer: stateRenderer{engine}}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	limiter := bot.NewMemoryLimiter(map[string]bot.Limits{"sim": {App: bot.Rate{Count: 1, Per: time.Minute, Burst: 1}}},
		func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
	p, err := bot.NewPipeline(bot.PipelineDeps{Platforms: map[string]bot.Platform{"sim": pl}, Store: store,
		Directory: store, Render: render, Limiter: limiter})
	require.NoError(t, err)
	x := &fixture{t: t, store: store, engine: engine, platform: pl, pipeline: p}
	x.start("500.00")
	msgs := x.pending()
	require.GreaterOrEqual(t, len(msgs), 2, "the order opens a task for each finance user")
	require.NoError(t, p.Handle(t.Context(), msgs[0]), "the first card takes the minute's one slot")
	require.EqualValues(t, 1, render.tasks.Load())

	err = p.Handle(t.Context(), msgs[1])
	after, limited := queue.RetryAfter(err)
	require.True(t, limited, "the second waits for the next slot: %v", err)
	require.Equal(t, time.Minute, after)
	require.EqualValues(t, 1, render.tasks.Load(), "put off before it was rendered")
	sends, _ := pl.counts()
	require.Equal(t, 1, sends)

	clock.Lock()
	now = now.Add(time.Minute)
	clock.Unlock()
	again := msgs[1]
	again.Limited = 1 // the queue brings it back for its place
	require.NoError(t, p.Handle(t.Context(), again), "a minute later its place is due")
	require.EqualValues(t, 2, render.tasks.Load())
	sends, _ = pl.counts()
	require.Equal(t, 2, sends)
}

func TestCommands(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	x.start("500.00")
	cards, err := x.actions.Message(t.Context(), bot.Message{Platform: "sim", EventID: "m1", PlatformUserID: "qian", Text: "待办"})
	require.NoError(t, err)
	require.Len(t, cards, 1)
	require.NotEmpty(t, cards[0].Buttons, "a to-do card can be acted on")

	cards, err = x.actions.Message(t.Context(), bot.Message{Platform: "sim", EventID: "m2", PlatformUserID: "qian", Text: "/help"})
	require.NoError(t, err)
	require.Contains(t, cards[0].Text, "/todo")

	cards, err = x.actions.Message(t.Context(), bot.Message{Platform: "sim", EventID: "m3", PlatformUserID: "qian", Text: "what?"})
	require.NoError(t, err)
	require.Equal(t, "help", cards[0].Subject, "unknown input gets the help card")

	cards, err = x.actions.Message(t.Context(), bot.Message{Platform: "sim", EventID: "m4", PlatformUserID: "ghost", Text: "/todo"})
	require.NoError(t, err)
	require.Contains(t, cards[0].Title, "通讯录")

	reply, err := x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "c1", PlatformUserID: "wu",
		Payload: "t:nope.t0001:1", Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
	require.NotContains(t, reply.Toast.Text, "sqlite", "no backend name reaches people")

	reply, err = x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "c2", PlatformUserID: "wu",
		Payload: "garbage", Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
}

// keysOf lists a chat's card subjects, for a failure's message.
func keysOf(chat map[string]bot.Card) []string {
	return slices.Sorted(maps.Keys(chat))
}

func TestClickReturnsWhereTheButtonSays(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	inst, opened := x.start("500.00")
	reply, err := x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "r1", PlatformUserID: "qian",
		Payload: bot.Payload{TaskID: opened[0], Version: 1}.String(), Action: flows.ActReturn,
		Values: map[string]string{bot.ValueReturnTo: flows.ReturnToApplicant, bot.InputComment: "金额不对"}})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	tasks, err := x.engine.Tasks(t.Context(), flows.TaskQuery{Assignee: "u_chen"})
	require.NoError(t, err)
	require.Len(t, tasks, 1, "the applicant has the resubmit task")
	require.Equal(t, inst, tasks[0].Task.InstanceID)
	x.deliver(x.pending())
	chat := x.platform.cardsOf("u_chen")
	require.Len(t, chat, 1, "one card to resubmit or withdraw on, not two: %v", keysOf(chat))
	require.Contains(t, chat, tasks[0].Task.ID)

	reply, err = x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "r2", PlatformUserID: "chen",
		Payload: bot.Payload{InstanceID: inst, Version: 2}.String(), Action: flows.ActWithdraw})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
}

func TestStartAFlowFromItsFormCard(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	ask := func(text string) []bot.Card {
		cards, err := x.actions.Message(t.Context(), bot.Message{Platform: "sim", EventID: "m-" + text, PlatformUserID: "chu", Text: text})
		require.NoError(t, err)
		return cards
	}
	form := ask("/start return_exchange")[0]
	require.NotEmpty(t, form.Inputs, "the card asks for the form")
	require.Len(t, form.Buttons, 1)
	require.Equal(t, flows.ActStart, form.Buttons[0].Action)
	var kind bot.Input
	for _, in := range form.Inputs {
		if in.Name == "kind" {
			kind = in
		}
	}
	require.Equal(t, bot.InputSelect, kind.Kind, "an enum is a select")

	click := func(id string, values map[string]string) bot.ClickReply {
		reply, err := x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: id, PlatformUserID: "chu",
			Payload: form.Buttons[0].Payload, Action: flows.ActStart, Values: values})
		require.NoError(t, err)
		return reply
	}
	reply := click("s1", map[string]string{"order_no": "JD-9"})
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
	require.Contains(t, reply.Toast.Text, "原因必填", "the missing fields are named by their labels")
	require.NotContains(t, reply.Toast.Text, "required", "in the reader's language")

	reply = click("s2", map[string]string{"order_no": "JD-9", "kind": "退货", "reason": "破损", "refund_amount": "99.9"})
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	require.NotNil(t, reply.Card)
	require.NotEmpty(t, reply.Card.InstanceID, "the form card becomes the request's card")
	again := click("s2", map[string]string{"order_no": "JD-9", "kind": "退货", "reason": "破损", "refund_amount": "99.9"})
	require.Equal(t, reply.Card.InstanceID, again.Card.InstanceID, "a retried callback starts nothing new")

	// A double click on the form card of a message: two events, one request.
	filled := map[string]string{"order_no": "JD-10", "kind": "退货", "reason": "破损", "refund_amount": "99.9"}
	onMessage := func(id, user string, values map[string]string) bot.ClickReply {
		reply, err := x.actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: id, PlatformUserID: user, MessageID: "msg-form-1",
			Payload: form.Buttons[0].Payload, Action: flows.ActStart, Values: values})
		require.NoError(t, err)
		return reply
	}
	replies := make([]bot.ClickReply, 2)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() { replies[i] = onMessage(fmt.Sprintf("dbl-%d", i), "chu", filled) })
	}
	wg.Wait()
	for _, r := range replies {
		require.Equal(t, bot.ToastSuccess, r.Toast.Kind, r.Toast.Text)
	}
	require.Equal(t, replies[0].Card.InstanceID, replies[1].Card.InstanceID, "a double click starts one request")
	edited := maps.Clone(filled)
	edited["reason"] = "少件"
	later := onMessage("dbl-3", "chu", edited)
	require.Equal(t, bot.ToastError, later.Toast.Kind)
	require.Contains(t, later.Toast.Text, "这张表单已经提交过了")

	require.Contains(t, ask("/start order_fulfilment")[0].Text, "明细表", "a form with a table points to the full form")
	alert := ask("/start oversell_alert")[0]
	require.Equal(t, bot.StatusRejected, alert.Status, "alert flows are opened by their events")
	require.Contains(t, alert.Title, "由事件触发，不能手动发起")
	nope := ask("/start nope")[0]
	require.Equal(t, bot.StatusRejected, nope.Status)
	require.Equal(t, "没有可以发起的流程“nope”", nope.Title)
	require.Contains(t, nope.Text, "`return_exchange`", "with the flows that can be started")
	byName := ask("发起 " + form.Title)[0]
	require.Equal(t, form.Title, byName.Title, "a flow by the name the list shows")
	require.NotEmpty(t, byName.Inputs)
	require.Equal(t, ask("/todo")[0].Subject, ask("／todo")[0].Subject, "a full-width slash, as a Chinese input method writes it")
}

// countedCards counts the reads of an instance's cards.
type countedCards struct {
	bot.Store
	reads atomic.Int64
}

func (c *countedCards) InstanceCards(ctx context.Context, id string) ([]bot.CardMessage, error) {
	c.reads.Add(1)
	return c.Store.InstanceCards(ctx, id)
}

// TestTheFirstIntentOfACommitRefreshes: of a commit's intents only the
// first reads the instance's cards to bring the other copies up to date;
// delivered alone, it updates them all, even when its own recipient has
// left the org meanwhile; the rest add no read and no update.
func TestTheFirstIntentOfACommitRefreshes(t *testing.T) {
	t.Parallel()
	store, engine := exampletest.World(t)
	pl := newFakePlatform()
	counted := &countedCards{Store: store}
	p, err := bot.NewPipeline(bot.PipelineDeps{Platforms: map[string]bot.Platform{"sim": pl}, Store: counted,
		Directory: store, Render: stateRenderer{engine}})
	require.NoError(t, err)
	x := &fixture{t: t, store: store, engine: engine, platform: pl, pipeline: p}
	_, opened := x.start("500.00")
	x.deliver(x.pending())
	require.Zero(t, counted.reads.Load(), "the cards of the first commit have nothing to refresh")

	_, err = engine.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: opened[0]})
	require.NoError(t, err)
	msgs := x.pending()
	require.Greater(t, len(msgs), 1, "the decision tells several people")
	for i, m := range msgs {
		var n flows.NotificationIntent
		require.NoError(t, json.Unmarshal(m.Payload, &n))
		require.Equal(t, i > 0, n.NoRefresh, "intent %d (%s)", i, n.Key)
		if i == 0 {
			// Its recipient left the org after the commit.
			n.Recipient = "u_gone"
			m.Payload, err = json.Marshal(n)
			require.NoError(t, err)
			msgs[0] = m
		}
	}
	x.deliver(msgs[:1])
	require.Equal(t, int64(1), counted.reads.Load())
	for _, u := range []string{"u_qian", "u_sun", "u_zhao"} {
		for _, c := range pl.cardsOf(u) {
			require.Empty(t, c.Buttons, "%s's copy lost its buttons", u)
			require.Equal(t, "approve by u_qian", c.StatusLine, u)
		}
	}
	_, updates := pl.counts()
	x.deliver(msgs[1:])
	require.Equal(t, int64(1), counted.reads.Load(), "the other intents read no cards")
	_, after := pl.counts()
	require.Equal(t, updates, after, "and update none")
}
