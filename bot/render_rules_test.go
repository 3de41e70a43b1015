package bot_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
)

// cardJSON is everything a card carries, as a platform would get it.
func cardJSON(t *testing.T, c bot.Card) string {
	t.Helper()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return string(b)
}

// requireHidden fails unless no trace of a hidden field (its label, its
// value written any way) is anywhere in the card.
func requireHidden(t *testing.T, c bot.Card, label string, values ...string) {
	t.Helper()
	s := cardJSON(t, c)
	require.NotContains(t, s, label, "card %s", c.Subject)
	for _, v := range values {
		require.NotContains(t, s, v, "card %s", c.Subject)
	}
}

func TestHiddenFieldsNeverReachACard(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	// cost 4321.00 and amount 6800.00 appear nowhere else in the order.
	res, err := w.engine.Start(ctx, flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
		"order_no": "TM-7", "platform": "jd", "amount": "6800.00", "cost": "4321.00",
		"items": []any{map[string]any{"sku": "SKU-1", "qty": 2, "price": "3400.00"}},
	}})
	require.NoError(t, err)
	inst := res.InstanceID
	cost := []string{"4321", "4,321"}
	amount := []string{"6800", "6,800"}

	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: w.task(inst, "u_qian")})
	director := w.task(inst, "u_zhou")
	for _, user := range []string{"u_zhou", "u_wang"} { // the director and his leave proxy
		c := w.card(w.reader(user), w.intent(inst, flows.NotifyTaskAssigned, user))
		requireHidden(t, c, "成本", cost...)
		require.Contains(t, cardJSON(t, c), "¥6,800.00", "the director sees the amount")
	}
	// An administrator may view every field of the instance, but the
	// director step's task card still holds only what that step may see.
	requireHidden(t, w.taskCard(w.reader("u_shen"), director), "成本", cost...)
	require.Contains(t, cardJSON(t, w.instanceCard(w.reader("u_shen"), inst)), "¥4,321.00", "the admin's instance card has it")

	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_zhou", TaskID: director})
	for _, user := range []string{"u_feng", "u_zheng"} {
		c := w.card(w.reader(user), w.intent(inst, flows.NotifyTaskAssigned, user))
		requireHidden(t, c, "成本", cost...)
		requireHidden(t, c, "订单金额", amount...)
		require.Equal(t, "订单履约 · TM-7", c.Title, "no amount in the title at the pack step")
	}
	w.act(flows.Action{Kind: flows.ActComplete, Actor: "u_feng", TaskID: w.task(inst, "u_feng"),
		Result: map[string]any{"tracking_no": "SF1", "carrier": "sf"}})
	done := w.taskCard(w.reader("u_feng"), w.task(inst, "u_feng"))
	requireHidden(t, done, "成本", cost...)
	requireHidden(t, done, "订单金额", amount...)
	cc := w.card(w.reader("u_chu"), w.intent(inst, flows.NotifyCC, "u_chu"))
	requireHidden(t, cc, "成本", cost...)
	requireHidden(t, cc, "订单金额", amount...)
	require.Contains(t, cardJSON(t, cc), "SF1", "the copy shows the pack step's result")

	// Every intent of the instance, rendered for its recipient, hides what
	// the recipient's step hides.
	for _, n := range w.intents() {
		c := w.card(w.reader(n.Recipient), n)
		switch n.Recipient {
		case "u_zhou", "u_wang":
			requireHidden(t, c, "成本", cost...)
		case "u_feng", "u_zheng", "u_chu":
			requireHidden(t, c, "成本", cost...)
			requireHidden(t, c, "订单金额", amount...)
		}
	}
}

func TestMoneyIsShownWithItsScale(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inst := w.order("TM-8", "6800.5")
	c := w.card(w.reader("u_qian"), w.intent(inst, flows.NotifyTaskAssigned, "u_qian"))
	require.Equal(t, "订单履约 · TM-8 · ¥6,800.50", c.Title)
	s := cardJSON(t, c)
	require.NotRegexp(t, `6800|6,800\.5[^0]`, s, "an amount is never shown without its scale")

	money := regexp.MustCompile(`^-?¥\d{1,3}(,\d{3})*\.\d{2}$`)
	labels := map[string]bool{"订单金额": true, "成本": true}
	for _, f := range c.Fields {
		if labels[f.Label] {
			require.Regexp(t, money, f.Value, f.Label)
		}
	}
	require.Len(t, c.Tables, 1)
	require.Equal(t, []string{"SKU", "数量", "单价"}, c.Tables[0].Columns)
	for _, row := range c.Tables[0].Rows {
		require.Regexp(t, money, row[2], "a money cell")
	}
	require.Equal(t, []string{"SKU-1", "2", "¥3,400.00"}, c.Tables[0].Rows[0])
}

func TestCoSignerCardSaysWhoDecided(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inst := w.order("TM-9", "800.00")
	w.advance(102 * time.Minute) // 10:42
	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: w.task(inst, "u_qian")})

	own := w.taskCard(w.reader("u_qian"), w.task(inst, "u_qian"))
	require.Equal(t, "已同意 · 钱多多 · 10:42", own.StatusLine)
	for _, user := range []string{"u_zhao", "u_sun"} {
		c := w.card(w.reader(user), w.intent(inst, flows.NotifyTaskClosed, user))
		require.Equal(t, bot.StatusApproved, c.Status)
		require.Equal(t, "已由 钱多多 同意 · 10:42", c.StatusLine, user)
		require.Empty(t, c.Buttons, "a closed card offers nothing")
		require.Empty(t, c.Inputs)
	}
	en := w.card(w.english("u_sun"), w.intent(inst, flows.NotifyTaskClosed, "u_sun"))
	require.Equal(t, "Approved by 钱多多 · 10:42", en.StatusLine)

	// The next day the time carries its date.
	w.advance(24 * time.Hour)
	require.Equal(t, "已由 钱多多 同意 · 02-03 10:42", w.taskCard(w.reader("u_sun"), w.task(inst, "u_sun")).StatusLine)
	require.Equal(t, "Approved by 钱多多 · Feb 3 10:42", w.taskCard(w.english("u_sun"), w.task(inst, "u_sun")).StatusLine)
}

func TestOnlyTheHolderOrTheirProxyGetsButtons(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inst := w.order("TM-10", "6800.00")
	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: w.task(inst, "u_qian")})
	director := w.task(inst, "u_zhou")

	holder := w.taskCard(w.reader("u_zhou"), director)
	require.NotEmpty(t, holder.Buttons)
	require.Empty(t, holder.Note)

	// Without the intent, the proxy is found among the reader's tasks.
	proxy := w.taskCard(w.reader("u_wang"), director)
	require.NotEmpty(t, proxy.Buttons)
	require.Equal(t, "代 周总监 处理", proxy.Note)

	other := w.taskCard(w.reader("u_shen"), director)
	require.Empty(t, other.Buttons, "an administrator reading the card does not hold the task")
	require.Equal(t, bot.StatusPending, other.Status)

	copied := w.instanceCard(w.reader("u_shen"), inst)
	require.Empty(t, copied.Buttons, "only the applicant withdraws or urges")
	applicant := w.instanceCard(w.reader("u_chen"), inst)
	require.Equal(t, []flows.ActionKind{flows.ActUrge, flows.ActWithdraw}, actions(applicant))
	require.Equal(t, bot.Payload{InstanceID: inst, Version: applicant.Version}.String(), applicant.Buttons[0].Payload)

	for _, b := range holder.Buttons {
		p, err := bot.ParsePayload(b.Payload)
		require.NoError(t, err)
		require.Equal(t, bot.Payload{TaskID: director, Version: holder.Version}, p)
	}
}

func actions(c bot.Card) []flows.ActionKind {
	var out []flows.ActionKind
	for _, b := range c.Buttons {
		out = append(out, b.Action)
	}
	return out
}

func TestCommentsCannotWriteMarkdown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inst := w.order("TM-11", "800.00")
	w.act(flows.Action{Kind: flows.ActReject, Actor: "u_qian", TaskID: w.task(inst, "u_qian"),
		Comment: "[点此验证](https://evil.example) **急**"})
	c := w.card(w.reader("u_chen"), w.intent(inst, flows.NotifyFinished, "u_chen"))
	require.Contains(t, c.Text, `\[点此验证\](https://evil.example) \*\*急\*\*`)
	require.Equal(t, bot.StatusRejected, c.Status)
	require.True(t, strings.HasPrefix(c.StatusLine, "已拒绝 · 钱多多 · "), c.StatusLine)

	w.act(flows.Action{Kind: flows.ActComment, Actor: "u_qian", InstanceID: inst, Comment: "<b>_x_</b>"})
	notice := w.card(w.reader("u_chen"), w.intent(inst, flows.NotifyComment, "u_chen"))
	require.Equal(t, `💬 &lt;b&gt;\_x\_&lt;/b&gt;`, notice.Text)
	require.Equal(t, bot.StatusInfo, notice.Status)

	_, err := w.render.Notice(t.Context(), w.reader("u_chen"), w.intent(inst, flows.NotifyFinished, "u_chen"))
	require.ErrorIs(t, err, bot.ErrInvalid, "a notice is for comments only")
}

func TestRenderRefusesReadersWhoMayNotSee(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inst := w.order("TM-12", "800.00")
	_, err := w.render.InstanceCard(t.Context(), w.reader("u_wu"), inst, nil)
	require.ErrorIs(t, err, flows.ErrNotParticipant, "a salesman with no part in the order sees no card of it")
	_, err = w.render.TaskCard(t.Context(), w.reader("u_qian"), inst+".t0999", nil)
	require.ErrorIs(t, err, bot.ErrNotFound)
	_, err = w.render.InstanceCard(t.Context(), bot.Reader{}, inst, nil)
	require.ErrorIs(t, err, bot.ErrInvalid)
}

func TestReaderFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		user       flows.User
		wantLocale bot.Locale
		wantZone   string
	}{
		{name: "defaults", user: flows.User{ID: "u"}, wantLocale: bot.LocaleZH, wantZone: "Asia/Shanghai"},
		{name: "from the org", user: flows.User{ID: "u", Locale: "en", TimeZone: "Europe/Berlin"}, wantLocale: bot.LocaleEN, wantZone: "Europe/Berlin"},
		{name: "unknown zone", user: flows.User{ID: "u", Locale: "zh-CN", TimeZone: "Mars/Olympus"}, wantLocale: bot.LocaleZH, wantZone: "Asia/Shanghai"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.user.PlatformIDs = map[string]string{"feishu": "ou_1"}
			r := bot.ReaderFor(tt.user, "feishu")
			require.Equal(t, "ou_1", r.PlatformUserID)
			require.Equal(t, tt.wantLocale, r.Locale)
			require.Equal(t, tt.wantZone, r.Zone.String())
			require.Same(t, r.Zone, bot.ReaderFor(tt.user, "feishu").Zone, "the zone is loaded once")
		})
	}
}

// TestRedrawnCardKeepsWhyItCame: a task returned to its step says why on
// its card, and still says it when the card is drawn again without a
// notification (every copy brought up to date after a reminder).
func TestRedrawnCardKeepsWhyItCame(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inst := w.order("TM-5001", "6800.00")
	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: w.task(inst, "u_qian")})
	w.act(flows.Action{Kind: flows.ActReturn, Actor: "u_zhou", TaskID: w.task(inst, "u_zhou"), To: "finance_confirm",
		Comment: "核对成本"})
	task := w.task(inst, "u_sun")
	sent := w.card(w.reader("u_sun"), w.intent(inst, flows.NotifyTaskAssigned, "u_sun"))
	require.Contains(t, sent.Note, "退回")
	require.Contains(t, sent.Note, "核对成本")
	w.act(flows.Action{Kind: flows.ActUrge, Actor: "u_chen", InstanceID: inst, Key: "urge-1"})
	again := w.taskCard(w.reader("u_sun"), task)
	require.Greater(t, again.Version, sent.Version)
	require.Equal(t, sent.Note, again.Note, "the reason stays on the redrawn card")
}
