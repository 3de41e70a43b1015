package sim_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"cardflow/internal/browsertest"
	"cardflow/internal/testenv"
)

// deaf makes a tab whose page never hears the event stream, as when an
// update is still on its way: its cards stay as they were drawn.
const deaf = `window.EventSource = class {
  constructor() { this.readyState = 0; }
  addEventListener() {}
  close() {}
};`

// TestBrowserFirstMinute walks the README's first minute in headless
// Chromium against the app as cardflow demo runs it: 陈 files an order of
// ¥6,800 through the form, 钱 approves it on her card, 孙's copy closes
// while she watches, 赵 clicks her copy that never heard of it, 周
// approves, 郑 completes the pack task, and 陈 sees the finished card and
// types 待办 and /help. Every step leaves a screenshot.
func TestBrowserFirstMinute(t *testing.T) {
	t.Parallel()
	chromium := testenv.Browser(t)
	base := startDemo(t)
	browser := browsertest.New(t, chromium)
	const order = "订单履约 · TM-1001"
	taskButtons := []string{"同意", "拒绝", "退回申请人"}

	// 陈 (customer service) files the order with 发起审批.
	main := open(browser, "main", base, "")
	main.pick("陈客服主管")
	main.Click("#new")
	browsertest.Poll[bool](main.Tab, "the form", `() => document.getElementById('start').open`)
	main.choose(`#start select[aria-label="选择流程"]`, "order_fulfilment")
	main.Do(
		chromedp.SendKeys(chromedp.CSS(`#start [data-field="order_no"] input`), "TM-1001"),
		chromedp.SendKeys(chromedp.CSS(`#start [data-field="amount"] input`), "6800"),
		chromedp.SendKeys(chromedp.CSS(`#start [data-field="items"] [data-key="sku"]`), "SKU-1"),
		chromedp.SendKeys(chromedp.CSS(`#start [data-field="items"] [data-key="qty"]`), "2"),
		chromedp.SendKeys(chromedp.CSS(`#start [data-field="items"] [data-key="price"]`), "3400"),
	)
	main.choose(`#start [data-field="platform"] select`, "tmall")
	require.Equal(t, "天猫", browsertest.Eval[string](main.Tab, `document.querySelector('#start [data-field="platform"] select').selectedOptions[0].text`),
		"an option as people read it")
	main.shot("01-chen-new-order")
	amount := browsertest.Eval[string](main.Tab, `document.querySelector('#start [data-field="amount"] input').value`)
	require.Equal(t, "6800.00", amount, "money is shown with two decimals once the field is left")
	// Before submitting, 陈 previews the route: ¥6,800 needs the sales
	// director after finance; nothing is started yet.
	main.Click(`#start button[aria-label="预览流程"]`)
	route := browsertest.Poll[string](main.Tab, "the route", `() => {
  const steps = [...document.querySelectorAll('#start .route-name')];
  return steps.length ? steps.map((e) => e.textContent).join(' | ') : null;
}`)
	require.Equal(t, "财务确认 · 或签 | 销售总监审批 · 单人审批 | 仓库打包", route)
	main.shot("01b-chen-previews-the-route")
	main.Click(`#start button[type=submit]`)
	require.Equal(t, "已提交：订单履约", main.toast("success"))
	browsertest.Poll[bool](main.Tab, "the form to close", `() => !document.getElementById('start').open`)

	// Finance is 或签: 钱, 孙 and 赵 each get the task. 孙's tab and 赵's
	// deaf tab stay open from here on.
	sun := open(browser, "sun", base+"#user=sun", "")
	require.Equal(t, taskButtons, sun.card(order, "").Buttons)
	sun.Do(chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	zhao := open(browser, "zhao-deaf", base+"#user=zhao", deaf)
	require.Equal(t, taskButtons, zhao.card(order, "").Buttons)

	// 钱 approves on her card.
	main.pick("钱多多")
	qian := main.card(order, "")
	require.Equal(t, order+" · ¥6,800.00", qian.Title)
	require.Equal(t, taskButtons, qian.Buttons)
	require.Equal(t, map[string]string{"订单号": "TM-1001", "平台": "天猫", "订单金额": "¥6,800.00"}, qian.Fields)
	main.shot("02-qian-task")
	main.press("同意", order)
	require.Equal(t, "已同意", main.toast("success"))
	require.Regexp(t, `^已同意 · 钱多多 · \d\d:\d\d$`, main.card(order, "已同意 · 钱多多").Status)
	main.shot("03-qian-approved")

	// 孙's copy closes while she looks at it: the event stream, no reload.
	sunCopy := sun.card(order, "已由 钱多多 同意")
	require.Regexp(t, `^已由 钱多多 同意 · \d\d:\d\d$`, sunCopy.Status)
	reloaded := browsertest.Eval[bool](sun.Tab, `window.notReloaded !== true`)
	require.False(t, reloaded, "孙's page was reloaded")
	sun.shot("04-sun-copy-closed")

	// 赵's tab never heard of it and still offers the buttons: her click
	// is refused with who decided, and the card refreshes.
	require.Equal(t, taskButtons, zhao.card(order, "").Buttons)
	zhao.press("同意", order)
	said := regexp.MustCompile(`^已由 钱多多 于 (\d\d:\d\d) 同意$`).FindStringSubmatch(zhao.toast("info"))
	require.NotNil(t, said, "the toast says who decided and when")
	require.Equal(t, "已由 钱多多 同意 · "+said[1], zhao.card(order, "已由 钱多多 同意").Status)
	zhao.shot("05-zhao-stale-click")

	// Over ¥5,000, so the sales director approves too.
	main.pick("周总监")
	require.Equal(t, order+" · ¥6,800.00", main.card(order, "").Title)
	main.press("同意", order)
	require.Equal(t, "已同意", main.toast("success"))
	main.card(order, "已同意 · 周总监")
	main.shot("06-zhou-approved")

	// 郑 (warehouse) completes the pack task with a tracking number; the
	// step hides the amount from him.
	main.pick("郑仓管")
	pack := main.card(order, "")
	require.Equal(t, order, pack.Title)
	require.Equal(t, "完成", pack.Buttons[0])
	require.NotContains(t, pack.Fields, "订单金额")
	main.press("完成", order)
	main.Do(chromedp.SendKeys(chromedp.CSS(`#log form.card-inputs [name="tracking_no"]`), "SF1234567890"))
	main.choose(`#log form.card-inputs select[name="carrier"]`, "sf")
	main.shot("07-zheng-pack")
	main.Click(`#log form.card-inputs button[type=submit]`)
	main.toast("success")
	packed := main.card(order, "已完成 · 郑仓管")
	require.Equal(t, "已处理", packed.Badge, "a completed task is not 已同意")

	// 陈 sees the finished order, then asks the bot.
	main.pick("陈客服主管")
	done := main.card(order, "已通过")
	require.Equal(t, "SF1234567890", done.Fields["运单号"])
	require.Equal(t, "顺丰", done.Fields["快递公司"], "an option as people read it")
	main.shot("08-chen-finished")
	main.Do(chromedp.SendKeys(chromedp.ID("text"), "待办\n"))
	require.Equal(t, "你目前没有需要处理的任务。", main.reply("没有待办").Text)
	main.Do(chromedp.SendKeys(chromedp.ID("text"), "/help\n"))
	require.Contains(t, main.reply("我能做什么").Text, "/todo 或 待办")
	main.shot("09-chen-commands")
}

// TestBrowserApproverChangesAField: 客服审核 may change the refund; 褚's
// 同意 opens a box holding ¥99.90, and what she types is the new amount.
func TestBrowserApproverChangesAField(t *testing.T) {
	t.Parallel()
	chromium := testenv.Browser(t)
	base := startDemo(t)
	resp, err := http.Post(base+"api/start", "application/json", strings.NewReader(`{"user":"zhou","flow_id":"return_exchange",
		"form":{"order_no":"JD-7","kind":"退货","reason":"破损","refund_amount":"99.90"}}`))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	const title = "退货 · JD-7 · "

	main := open(browsertest.New(t, chromium), "edit", base, "")
	main.pick("褚客服")
	require.Equal(t, title+"¥99.90", main.card(title, "").Title)
	main.press("同意", title)
	box := `#log form.card-inputs [name="E_refund_amount"]`
	require.Equal(t, "99.90", browsertest.Poll[string](main.Tab, "the refund box", `(sel) => document.querySelector(sel)?.value || null`, box))
	main.Do(chromedp.SetValue(chromedp.CSS(box), "80.00"))
	main.shot("10-chu-changes-refund")
	main.Click(`#log form.card-inputs button[type=submit]`)
	require.Equal(t, "已同意", main.toast("success"))
	done := main.card(title, "已同意 · 褚客服")
	require.Equal(t, "¥80.00", done.Fields["退款金额"])
	require.Equal(t, title+"¥80.00", done.Title, "a title built from the form follows the edit")
}
