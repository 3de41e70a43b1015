package bot_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/internal/testclock"
	"cardflow/storage/sqlite"
)

// t0 is when every world's clock starts: 09:00 China time on a Wednesday
// inside the example org's leave proxy window (u_wang acts for u_zhou from
// 2027-02-01 to 2027-02-08).
var t0 = time.Date(2027, 2, 3, 1, 0, 0, 0, time.UTC)

// consoleURL is the console the cards link to.
const consoleURL = "https://oa.example.com"

// world is one scenario: the real engine on a fresh embedded store with
// the example flows and org, a clock moved by hand and ids counted, so
// that what it renders is the same at every run.
type world struct {
	t      *testing.T
	store  *sqlite.Store
	engine *flows.Engine
	render *bot.CardRenderer
	users  map[string]flows.User

	clock *testclock.Clock
	mu    sync.Mutex // guards ids
	ids   int
}

func newWorld(t *testing.T, editOrg ...func(*flows.Org)) *world {
	t.Helper()
	org := exampletest.Org(t)
	for _, edit := range editOrg {
		edit(&org)
	}
	store := exampletest.Store(t, org)

	w := &world{t: t, store: store, clock: testclock.New(t0), users: map[string]flows.User{}}
	for _, u := range org.Users {
		w.users[u.ID] = u
	}
	w.engine = exampletest.Engine(t, store, flows.WithClock(w.clock.Now), flows.WithIDs(w.newID))
	w.render = bot.NewCardRenderer(w.engine, store, bot.RendererOptions{ConsoleURL: consoleURL, Now: w.clock.Now})
	return w
}

func (w *world) advance(d time.Duration) { w.clock.Advance(d) }

func (w *world) newID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ids++
	return fmt.Sprintf("i%03d", w.ids)
}

// reader is how user reads cards on the simulator: their locale and zone
// from the org.
func (w *world) reader(user string) bot.Reader {
	u, ok := w.users[user]
	require.True(w.t, ok, "no user %s", user)
	return bot.ReaderFor(u, "sim")
}

// english is user's reader with English chosen.
func (w *world) english(user string) bot.Reader {
	r := w.reader(user)
	r.Locale = bot.LocaleEN
	return r
}

// order starts an order_fulfilment instance filed by u_chen.
func (w *world) order(no, amount string) string {
	w.t.Helper()
	res, err := w.engine.Start(w.t.Context(), flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
		"order_no": no, "platform": "tmall", "amount": amount, "cost": "4200.00", "buyer_note": "周末也可以送货",
		"items": []any{map[string]any{"sku": "SKU-1", "qty": 2, "price": "3400.00"}, map[string]any{"sku": "SKU-9", "qty": 1, "price": "0.00"}},
	}})
	require.NoError(w.t, err)
	return res.InstanceID
}

// act runs an action and fails the test on an error.
func (w *world) act(a flows.Action) flows.Result {
	w.t.Helper()
	res, err := w.engine.Act(w.t.Context(), a)
	require.NoError(w.t, err, "%s by %s", a.Kind, a.Actor)
	return res
}

// task returns user's latest task of an instance.
func (w *world) task(inst, user string) string {
	w.t.Helper()
	tasks, err := w.store.Tasks(w.t.Context(), flows.TaskFilter{InstanceID: inst, Assignee: user})
	require.NoError(w.t, err)
	require.NotEmpty(w.t, tasks, "%s has no task of %s", user, inst)
	return tasks[len(tasks)-1].ID
}

// intents returns every notification intent committed so far, in commit
// order.
func (w *world) intents() []flows.NotificationIntent {
	w.t.Helper()
	msgs, err := w.store.PendingOutbox(w.t.Context(), 100000)
	require.NoError(w.t, err)
	out := make([]flows.NotificationIntent, 0, len(msgs))
	for _, m := range msgs {
		var n flows.NotificationIntent
		require.NoError(w.t, json.Unmarshal(m.Payload, &n))
		out = append(out, n)
	}
	return out
}

// intent returns the latest intent of kind to recipient about inst.
func (w *world) intent(inst, kind, recipient string) flows.NotificationIntent {
	w.t.Helper()
	for _, n := range slices.Backward(w.intents()) {
		if n.InstanceID == inst && n.Kind == kind && n.Recipient == recipient {
			return n
		}
	}
	w.t.Fatalf("no %s intent to %s about %s", kind, recipient, inst)
	return flows.NotificationIntent{}
}

// card renders the card an intent is shown as.
func (w *world) card(r bot.Reader, n flows.NotificationIntent) bot.Card {
	w.t.Helper()
	c, err := w.render.Render(w.t.Context(), r, n)
	require.NoError(w.t, err, "%s to %s", n.Kind, r.UserID)
	return c
}

// taskCard renders a task's card as it stands, without an intent.
func (w *world) taskCard(r bot.Reader, task string) bot.Card {
	w.t.Helper()
	c, err := w.render.TaskCard(w.t.Context(), r, task, nil)
	require.NoError(w.t, err)
	return c
}

// instanceCard renders an instance's card as it stands, without an intent.
func (w *world) instanceCard(r bot.Reader, inst string) bot.Card {
	w.t.Helper()
	c, err := w.render.InstanceCard(w.t.Context(), r, inst, nil)
	require.NoError(w.t, err)
	return c
}

// fire fires the timers due now.
func (w *world) fire() int {
	w.t.Helper()
	n, err := w.engine.FireDueTimers(w.t.Context(), "test", 1000)
	require.NoError(w.t, err)
	return n
}

// alert reports an oversell of sku at the 华东一仓 warehouse.
func (w *world) alert(sku string) string {
	w.t.Helper()
	res, err := w.engine.Alert(w.t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
		Form: map[string]any{"sku": sku, "warehouse": "华东一仓", "platform": "jd", "oversold_qty": 3, "order_no": "TM-2001"}})
	require.NoError(w.t, err)
	require.Len(w.t, res, 1)
	return res[0].InstanceID
}
