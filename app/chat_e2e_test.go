package app_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/queue"
)

// What the notify consumer logs of each delivery (app's logDelivery).
const (
	logHandled = "notification handled"
	logRetried = "notification failed; retried until its attempts run out"
	logLimited = "notification put off by a rate limit"
	logDead    = "notification failed for good; dead-lettered"
)

// finance are the sim ids of 订单履约's 或签 finance signers.
var finance = []string{"qian", "sun", "zhao"}

// Card states the tests wait for.
func actionable(c bot.Card) bool { return len(c.Buttons) > 0 }
func closed(c bot.Card) bool     { return len(c.Buttons) == 0 && c.StatusLine != "" }
func anyCard(bot.Card) bool      { return true }

// TestChatOrderThroughSimulator walks the README's ¥6,800 order through
// the whole chat path on PostgreSQL and Redis: every commit goes through
// the outbox, the relay and the Redis queue to the simulator, and every
// click at the simulator's page goes back to the engine.
func TestChatOrderThroughSimulator(t *testing.T) {
	t.Parallel()
	c := startChatWith(t, newLogWatch(), func(cfg *config.Config) { cfg.Server.PublicURL = "https://oa.example.com" })
	inst, tasks := c.startOrder(t, "TM-6800", "6800.00")

	cards := map[string]sim.Message{}
	for _, u := range finance {
		cards[u] = c.waitCard(t, u, about(tasks, actionable))
		require.Equal(t, bot.StatusPending, cards[u].Card.Status)
		require.Equal(t, "订单履约 · TM-6800 · ¥6,800.00", cards[u].Card.Title)
		require.Equal(t, "https://oa.example.com/console/instances/"+inst, cards[u].Card.Link, "the card links to the request")
	}

	// 钱多多 approves: the answer replaces her card at once...
	got := c.click(t, "qian", cards["qian"], button(t, cards["qian"].Card, flows.ActApprove), nil)
	require.Equal(t, bot.ToastSuccess, got.Reply.Toast.Kind, got.Reply.Toast.Text)
	require.NotNil(t, got.Message, "the clicked message shows the answer")
	require.Equal(t, cards["qian"].ID, got.Message.ID)
	require.Empty(t, got.Message.Card.Buttons)
	require.True(t, strings.HasPrefix(got.Message.Card.StatusLine, "已同意 · 钱多多"), got.Message.Card.StatusLine)

	// ...and the pipeline brings every other finance copy, in place, to the
	// committed state: decided by her, nothing left to click.
	for _, u := range []string{"sun", "zhao"} {
		m := c.waitCard(t, u, about([]string{cards[u].Card.Subject}, closed))
		require.Equal(t, cards[u].ID, m.ID, "%s's card is updated in place", u)
		require.Equal(t, bot.StatusApproved, m.Card.Status)
		require.True(t, strings.HasPrefix(m.Card.StatusLine, "已由 钱多多 同意 · "), "%s: %q", u, m.Card.StatusLine)
		require.Empty(t, m.Card.Buttons)
	}
	applicant := c.waitCard(t, "chen", about([]string{inst}, anyCard))
	require.Contains(t, applicant.Card.Text, "钱多多 同意", "the applicant hears of the decision")

	// 孙会计 clicks his stale card: told who was first, nothing changes.
	late := c.click(t, "sun", cards["sun"], button(t, cards["sun"].Card, flows.ActApprove), nil)
	require.Equal(t, bot.ToastInfo, late.Reply.Toast.Kind)
	require.True(t, strings.HasPrefix(late.Reply.Toast.Text, "已由 钱多多 于 "), late.Reply.Toast.Text)
	require.True(t, strings.HasSuffix(late.Reply.Toast.Text, " 同意"), late.Reply.Toast.Text)

	// Over ¥5,000: the sales director approves next.
	director := c.waitCard(t, "zhou", func(c bot.Card) bool { return c.InstanceID == inst && actionable(c) })
	require.Contains(t, director.Card.Subtitle, "销售总监审批")
	got = c.click(t, "zhou", director, button(t, director.Card, flows.ActApprove), nil)
	require.Equal(t, bot.ToastSuccess, got.Reply.Toast.Kind, got.Reply.Toast.Text)

	// The warehouse packs it: either keeper may; 郑仓管 completes it with the
	// tracking number the card asks for.
	pack := map[string]sim.Message{}
	for _, u := range []string{"zheng", "feng"} {
		pack[u] = c.waitCard(t, u, func(c bot.Card) bool { return c.InstanceID == inst && actionable(c) })
		require.Contains(t, pack[u].Card.Subtitle, "仓库打包")
		require.NotContains(t, pack[u].Card.Title, "6,800", "the amount is hidden from the warehouse")
	}
	got = c.click(t, "zheng", pack["zheng"], button(t, pack["zheng"].Card, flows.ActComplete),
		map[string]string{"tracking_no": "SF1234567890", "carrier": "sf"})
	require.Equal(t, bot.ToastSuccess, got.Reply.Toast.Kind, got.Reply.Toast.Text)

	// The applicant's card shows the finished order; the other keeper's
	// copy and customer service's copy follow.
	done := c.waitCard(t, "chen", about([]string{inst}, func(c bot.Card) bool { return c.Status == bot.StatusApproved }))
	require.Equal(t, applicant.ID, done.ID, "the applicant's card is updated in place")
	require.Empty(t, done.Card.Buttons, "nothing left to urge or withdraw")
	require.NotEmpty(t, done.Card.StatusLine)
	c.waitCard(t, "feng", about([]string{pack["feng"].Card.Subject}, closed))
	cc := c.waitCard(t, "chu", about([]string{inst}, anyCard))
	require.Empty(t, cc.Card.Buttons, "a copy has nothing to do")

	dead, err := c.queue.DeadLetters(t.Context(), flows.NotifyTopic, 0)
	require.NoError(t, err)
	require.Empty(t, dead)
	// Each commit's intents were handled at once, each refreshing the
	// older copies: still, every call changed what its card showed.
	shown := map[string]string{}
	for _, call := range c.sim.Calls() {
		card, digest := call.To.UserID+"/"+call.Card.Subject, call.Card.Digest()
		require.NotEqual(t, shown[card], digest, "%s sent the same card again (version %d)", card, call.Card.Version)
		shown[card] = digest
	}
}

// TestChatRepublishedIntentsChangeNothing: once every card shows the
// latest commit, copies of its intents (the relay republishing after a
// crash, under new ids so the queue's dedupe cannot drop them) and late
// copies of the older commit's intents reach the pipeline and cause no
// Send or Update at all.
func TestChatRepublishedIntentsChangeNothing(t *testing.T) {
	t.Parallel()
	watch := newLogWatch()
	c := startChat(t, watch)
	inst, tasks := c.startOrder(t, "TM-0500", "500.00")
	qian := c.waitCard(t, "qian", about(tasks, actionable))
	c.click(t, "qian", qian, button(t, qian.Card, flows.ActApprove), nil)

	byVersion := map[int64][]outboxRow{}
	for _, row := range c.outboxOf(t, inst) {
		var n flows.NotificationIntent
		require.NoError(t, json.Unmarshal(row.payload, &n))
		byVersion[n.Version] = append(byVersion[n.Version], row)
	}
	require.Len(t, byVersion, 2, "the start and the approval")
	var keys []string
	for _, rows := range byVersion {
		for _, row := range rows {
			keys = append(keys, row.key)
		}
	}
	watch.await(t, logHandled, keys...)
	users := []string{"qian", "sun", "zhao", "chen", "zheng", "feng"}
	before := c.inboxes(t, users)
	calls := len(c.sim.Calls())

	for _, phase := range []struct {
		name string
		rows []outboxRow
	}{
		{"a copy of the delivered commit", byVersion[2]},
		{"an older commit after the newer", byVersion[1]},
	} {
		ids := make([]string, len(phase.rows))
		msgs := make([]queue.Message, len(phase.rows))
		for i, row := range phase.rows {
			ids[i] = queue.NewID()
			msgs[i] = queue.Message{ID: ids[i], Key: inst, Payload: row.payload}
		}
		require.NoError(t, c.queue.Publish(t.Context(), flows.NotifyTopic, msgs...))
		watch.await(t, logHandled, ids...)
		require.Equal(t, calls, len(c.sim.Calls()), "%s: no Send or Update", phase.name)
		require.Equal(t, before, c.inboxes(t, users), "%s: every inbox as it was", phase.name)
	}
}

// TestChatDelayedIntentShowsTheNewerState: sun's task card fails to go out
// until 钱多多's approval has been committed and delivered; when the
// older intent finally gets through, it shows the newer state. sun never
// sees a card he could still act on.
func TestChatDelayedIntentShowsTheNewerState(t *testing.T) {
	t.Parallel()
	watch := newLogWatch()
	c := startChat(t, watch)
	var hold atomic.Bool
	hold.Store(true)
	refused := make(chan struct{}, 1)
	c.sim.FailWith(func(call sim.Call) error {
		if call.To.UserID != "u_sun" || !hold.Load() {
			return nil
		}
		select {
		case refused <- struct{}{}:
		default:
		}
		return errors.New("sim: connection reset") // retryable
	})
	inst, tasks := c.startOrder(t, "TM-0501", "500.00")
	select {
	case <-refused:
	case <-time.After(patience):
		t.Fatal("sun's card was never tried")
	}
	watch.await(t, logRetried, c.keyFor(t, inst, "u_sun"))
	qian := c.waitCard(t, "qian", about(tasks, actionable))
	c.click(t, "qian", qian, button(t, qian.Card, flows.ActApprove), nil)
	var approval []string
	for _, row := range c.outboxOf(t, inst) {
		if strings.HasPrefix(row.key, inst+"/v2/") {
			approval = append(approval, row.key)
		}
	}
	require.NotEmpty(t, approval)
	watch.await(t, logHandled, approval...)

	hold.Store(false)
	m := c.waitCard(t, "sun", about(tasks, anyCard))
	require.EqualValues(t, 2, m.Card.Version)
	require.Empty(t, m.Card.Buttons)
	require.True(t, strings.HasPrefix(m.Card.StatusLine, "已由 钱多多 同意 · "), m.Card.StatusLine)
	require.Len(t, c.inbox(t, "sun"), 1)
	for _, call := range c.sim.Calls() {
		if call.To.UserID == "u_sun" && call.Err == nil {
			require.EqualValues(t, 2, call.Card.Version, "sun was never shown the open task")
		}
	}
}

// TestChatRateLimitedSender: the platform says "slow down, 200ms" to the
// first send to 钱多多. The card arrives once, no sooner than 200ms later,
// on the same attempt, and nothing is dead-lettered.
func TestChatRateLimitedSender(t *testing.T) {
	t.Parallel()
	watch := newLogWatch()
	c := startChat(t, watch)
	var (
		mu        sync.Mutex
		limitedAt time.Time
	)
	c.sim.FailWith(func(call sim.Call) error {
		mu.Lock()
		defer mu.Unlock()
		if call.To.UserID != "u_qian" || !limitedAt.IsZero() {
			return nil
		}
		limitedAt = time.Now()
		return queue.RateLimited(errors.New("sim: 429 too many requests"), 200*time.Millisecond)
	})
	inst, tasks := c.startOrder(t, "TM-0502", "500.00")
	m := c.waitCard(t, "qian", about(tasks, actionable))
	mu.Lock()
	waited := m.SentAt.Sub(limitedAt)
	mu.Unlock()
	require.GreaterOrEqual(t, waited, 200*time.Millisecond, "sent again only after the platform's wait")

	key := c.keyFor(t, inst, "u_qian")
	require.Equal(t, "1", watch.await(t, logLimited, key)[key].attrs["attempt"])
	require.Equal(t, "1", watch.await(t, logHandled, key)[key].attrs["attempt"], "a rate limit costs no attempt")
	var sends []sim.Call
	for _, call := range c.sim.Calls() {
		if call.To.UserID == "u_qian" {
			sends = append(sends, call)
		}
	}
	require.Len(t, sends, 2, "refused once, then sent once")
	after, limited := queue.RetryAfter(sends[0].Err)
	require.True(t, limited)
	require.Equal(t, 200*time.Millisecond, after)
	require.NoError(t, sends[1].Err)
	require.Len(t, c.inbox(t, "qian"), 1, "delivered once")

	dead, err := c.queue.DeadLetters(t.Context(), flows.NotifyTopic, 0)
	require.NoError(t, err)
	require.Empty(t, dead)
}

// TestChatPermanentFailureIsDeadLettered: the platform refuses 钱多多's
// card for good. The intent is dead-lettered at once with the reason,
// where an operator lists it; the other signers get their cards.
func TestChatPermanentFailureIsDeadLettered(t *testing.T) {
	t.Parallel()
	watch := newLogWatch()
	c := startChat(t, watch)
	c.sim.FailWith(func(call sim.Call) error {
		if call.To.UserID == "u_qian" {
			return queue.Permanent(errors.New("sim: qian blocked the bot"))
		}
		return nil
	})
	inst, tasks := c.startOrder(t, "TM-0503", "500.00")
	key := c.keyFor(t, inst, "u_qian")
	watch.await(t, logDead, key)
	for _, u := range []string{"sun", "zhao"} {
		c.waitCard(t, u, about(tasks, actionable))
	}

	// The consumer records the dead letter after the handler returned, and
	// nothing outside the queue signals it: poll the list.
	var dead []queue.DeadLetter
	require.Eventually(t, func() bool {
		var err error
		dead, err = c.queue.DeadLetters(t.Context(), flows.NotifyTopic, 0)
		return err == nil && len(dead) > 0
	}, patience, 10*time.Millisecond)
	require.Len(t, dead, 1)
	require.Equal(t, key, dead[0].Message.ID)
	require.Equal(t, 1, dead[0].Message.Attempt, "no retry")
	require.Contains(t, dead[0].Error, "sim: qian blocked the bot")
	var n flows.NotificationIntent
	require.NoError(t, json.Unmarshal(dead[0].Message.Payload, &n))
	require.Equal(t, "u_qian", n.Recipient)
	require.Empty(t, c.inbox(t, "qian"))
}

// TestChatClickAnswerIsNotSentAgain: the answer to 钱多多's click replaces
// her card in place; the pipeline, delivering the approval's intents,
// finds her card showing that state already and sends her no update, while
// the other signers' copies are updated.
func TestChatClickAnswerIsNotSentAgain(t *testing.T) {
	t.Parallel()
	watch := newLogWatch()
	c := startChat(t, watch)
	inst, tasks := c.startOrder(t, "TM-0501", "500.00")
	qian := c.waitCard(t, "qian", about(tasks, actionable))
	c.waitCard(t, "sun", about(tasks, actionable))
	reply := c.click(t, "qian", qian, button(t, qian.Card, flows.ActApprove), nil)
	require.Equal(t, bot.ToastSuccess, reply.Reply.Toast.Kind)
	var keys []string
	for _, row := range c.outboxOf(t, inst) {
		keys = append(keys, row.key)
	}
	watch.await(t, logHandled, keys...)
	updates := map[string]int{}
	for _, call := range c.sim.Calls() {
		if call.Op == sim.OpUpdate && call.Err == nil {
			updates[call.To.UserID+"/"+call.Card.Subject]++
		}
	}
	require.Zero(t, updates["u_qian/"+qian.Card.Subject], "her card shows the answer already: %v", updates)
	require.Equal(t, 1, updates["u_sun/"+c.waitCard(t, "sun", about(tasks, closed)).Card.Subject],
		"孙会计's copy is updated once: %v", updates)
}
