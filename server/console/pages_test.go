package console_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/server/console"
	"cardflow/storage/storetest"
)

// TestEveryPage: each page answers 200 with its content to a logged-in
// operator, and sends anyone else to the log-in page.
func TestEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.startOrder("6800.00")
	deadLetter(t, b.queue, flows.NotifyTopic, "i1/v1/task_assigned/u_zhao", `{"instance_id":"inst-1"}`)
	_, err := b.engine.Alert(t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
		Form: map[string]any{"sku": "SKU-7", "warehouse": "gz-1", "platform": "tmall", "oversold_qty": 3}})
	require.NoError(t, err)
	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "dashboard", path: "/console/", want: `<tr data-status="running"><td><a href="/console/instances?status=running">进行中</a></td><td class="num">2</td>`},
		{name: "dashboard topics in words", path: "/console/", want: `<td>卡片通知</td>`},
		{name: "platforms in words", path: "/console/org", want: `聊天模拟器: qian`},
		{name: "instances", path: "/console/instances", want: `data-id="` + id + `"`},
		{name: "instances filtered", path: "/console/instances?flow=order_fulfilment&status=running", want: `data-id="` + id + `"`},
		{name: "instance", path: "/console/instances/" + id, want: "¥6,800.00"},
		{name: "tasks", path: "/console/tasks", want: `<td data-label="步骤">财务确认</td>`},
		{name: "flows", path: "/console/flows", want: `data-flow="order_fulfilment"`},
		{name: "flow", path: "/console/flows/order_fulfilment", want: `<svg xmlns="http://www.w3.org/2000/svg" role="img"`},
		{name: "alerts", path: "/console/alerts", want: "认领"},
		{name: "dead letters", path: "/console/deadletters", want: `href="/console/deadletters/view?topic=notify&amp;id=i1%2fv1%2ftask_assigned%2fu_zhao"`},
		{name: "dead letter", path: "/console/deadletters/view?topic=notify&id=i1%2Fv1%2Ftask_assigned%2Fu_zhao", want: "&#34;instance_id&#34;: &#34;inst-1&#34;"},
		{name: "org", path: "/console/org", want: "沈管理员"},
		{name: "analytics", path: "/console/analytics", want: `<form method="get" action="/console/analytics"`},
		{name: "retention", path: "/console/retention", want: "永久保留"},
	}
	in, out := b.visitor(), b.visitor()
	in.login()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := in.get(tt.path)
			require.Equal(t, http.StatusOK, p.status, p.body)
			require.Contains(t, p.body, tt.want)
			p = out.get(tt.path)
			require.Equal(t, http.StatusSeeOther, p.status)
			want := "/console/login"
			if tt.path != "/console/" {
				want += "?next=" + url.QueryEscape(tt.path)
			}
			require.Equal(t, want, p.location, "to log in, then back to the page")
		})
	}
	require.Equal(t, http.StatusNotFound, in.get("/console/instances/no-such").status)
	require.Equal(t, http.StatusNotFound, in.get("/console/deadletters/view?topic=notify&id=no-such").status)
	require.Equal(t, http.StatusNotFound, in.get("/console/flows/no-such").status)
}

// TestSearchLooksPastTheFirstPage: the instances page's search finds an
// order older than a page of newer ones, and lists only matches.
func TestSearchLooksPastTheFirstPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	start := func(no string) string {
		res, err := b.engine.Start(t.Context(), flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment",
			Form: map[string]any{"order_no": no, "platform": "tmall", "amount": "42.00",
				"items": []any{map[string]any{"sku": "SKU-1", "qty": 1, "price": "42.00"}}}})
		require.NoError(t, err)
		return res.InstanceID
	}
	old := start("TM-0001")
	var newer []string
	for i := range flows.DefaultPageSize {
		newer = append(newer, start(fmt.Sprintf("JD-%04d", i)))
	}
	in := b.visitor()
	in.login()
	p := in.get("/console/instances?q=tm-0001")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `data-id="`+old+`"`)
	require.NotContains(t, p.body, `data-id="`+newer[0]+`"`)
	require.NotContains(t, p.body, "after=", "one match, one page")

	// Without a search the old order is on the second page, behind the
	// first page's link.
	p = in.get("/console/instances")
	require.NotContains(t, p.body, `data-id="`+old+`"`)
	next := regexp.MustCompile(`href="(/console/instances\?after=[^"]+)" rel="next"`).FindStringSubmatch(p.body)
	require.NotNil(t, next, "a link to the next page")
	p = in.get(html.UnescapeString(next[1]))
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `data-id="`+old+`"`)
}

// TestReplay: a replayed dead letter leaves the list, with a message.
func TestReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	deadLetter(t, b.queue, flows.NotifyTopic, "i1/v1/task_assigned/u_zhao", `{}`)
	br := b.visitor()
	token := br.login()
	p := br.post("/console/deadletters/replay", url.Values{"csrf": {token}, "topic": {"notify"}, "id": {"i1/v1/task_assigned/u_zhao"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/console/deadletters", p.location)
	p = br.get("/console/deadletters")
	require.Contains(t, p.body, "已重新投递")
	require.Contains(t, p.body, `id="no-deadletters"`)
	dls, err := b.queue.DeadLetters(t.Context(), flows.NotifyTopic, 10)
	require.NoError(t, err)
	require.Empty(t, dls)
	require.Equal(t, 1, must(b.queue.Depth(t.Context(), flows.NotifyTopic)))
}

func must(n int64, err error) int {
	if err != nil {
		panic(err)
	}
	return int(n)
}

// TestTaskActions: the operator acts as an administrator (u_shen), whom the
// engine lets reassign anyone's open task; a reassignment it refuses (to
// someone deciding the same step) is said in plain words; urging works.
func TestTaskActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.startOrder("6800.00")
	tasks, err := b.store.Tasks(t.Context(), flows.TaskFilter{InstanceID: id, Status: flows.TaskOpen})
	require.NoError(t, err)
	require.NotEmpty(t, tasks)
	br := b.visitor()
	token := br.login()
	p := br.post("/console/tasks/"+tasks[0].ID+"/transfer", url.Values{"csrf": {token}, "to": {tasks[1].Assignee}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Contains(t, br.get("/console/tasks").body, "选择的对象无效")
	p = br.post("/console/tasks/"+tasks[0].ID+"/transfer", url.Values{"csrf": {token}, "to": {"u_wei"}})
	require.Equal(t, http.StatusSeeOther, p.status)
	page := br.get("/console/tasks").body
	require.Contains(t, page, "已转交")
	require.Contains(t, page, "卫采购主管 (u_wei)</td>")
	require.NotContains(t, page, `data-task="`+tasks[0].ID+`"`, "the old task is closed")
	p = br.post("/console/tasks/"+tasks[1].ID+"/urge", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Contains(t, br.get("/console/tasks").body, "已催办")
	p = br.post("/console/tasks/no-such/urge", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Contains(t, br.get("/console/tasks").body, "找不到这条记录", "an unknown task")
	timeline := br.get("/console/instances/" + id).body
	who, err := b.engine.User(t.Context(), tasks[0].Assignee)
	require.NoError(t, err)
	require.Contains(t, timeline, "（代 "+who.Name+" ("+who.ID+")）", "the admin's transfer says for whom")
	require.Contains(t, timeline, `<div class="says">交给 卫采购主管 (u_wei)</div>`, "and to whom")
	require.Contains(t, timeline, `<div class="says">步骤：财务确认</div>`)
}

// TestDashboardWithOnlyAStore: a console given only the engine and the
// store (no queue, no cards, no send counts) shows the dashboard, with its
// counts and a plain line where the send counts would be.
func TestDashboardWithOnlyAStore(t *testing.T) {
	t.Parallel()
	store, engine := exampletest.World(t)
	c, err := console.New(console.Config{SessionSecret: []byte("a-session-secret-of-32-bytes-at-least"), SessionTTL: time.Hour,
		AdminTokens: []config.Secret{adminToken}, AdminActsAs: "u_shen"},
		console.Deps{Engine: engine, Store: store})
	require.NoError(t, err)
	r := chi.NewRouter()
	c.Routes(r)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	b := &bundle{t: t, url: ts.URL, engine: engine, store: store}
	b.startOrder("100.00")
	v := b.visitor()
	p := v.post("/console/login/token", url.Values{"token": {adminToken}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	p = v.get("/console/")
	require.Contains(t, p.body, `<tr data-status="running"><td><a href="/console/instances?status=running">进行中</a></td><td class="num">1</td>`)
	require.Contains(t, p.body, "本实例还没有发送过卡片")
}

// TestAlertsAmongManyOpenTasks: the alerts page and the org page's
// delegations show a new alert and a new delegation behind more open
// tasks than the pages read (countCap, 10,000): the store selects them.
func TestAlertsAmongManyOpenTasks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var older []flows.Task
	for i := range 10000 {
		older = append(older, storetest.NewTask("i-old", fmt.Sprintf("t-old-%05d", i), "u_qian"))
	}
	inst := storetest.NewInstance("i-old")
	inst.FlowID, inst.FlowVersion = "purchase_request", 1
	storetest.MustApply(t, b.store, storetest.StartChange(inst, older...))
	_, err := b.engine.Alert(t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
		Form: map[string]any{"sku": "SKU-7", "warehouse": "gz-1", "platform": "tmall", "oversold_qty": 3}})
	require.NoError(t, err)
	alerts, err := b.store.Tasks(t.Context(), flows.TaskFilter{Assignee: "u_feng", Status: flows.TaskOpen})
	require.NoError(t, err)
	require.Len(t, alerts, 1)
	id := b.startOrder("6800.00")
	open, err := b.store.Tasks(t.Context(), flows.TaskFilter{InstanceID: id, Status: flows.TaskOpen})
	require.NoError(t, err)
	require.NotEmpty(t, open)
	_, err = b.engine.Act(t.Context(), flows.Action{Kind: flows.ActDelegate, Actor: open[0].Assignee, TaskID: open[0].ID,
		To: "u_wang"})
	require.NoError(t, err)
	br := b.visitor()
	br.login()
	require.Contains(t, br.get("/console/alerts").body, `data-task="`+alerts[0].ID+`"`)
	org := br.get("/console/org").body
	require.Contains(t, org, `id="delegations"`)
	require.Contains(t, org, `href="/console/instances/`+id+`"`)
}

// TestAlertActions: an operator acting as the on-call holder acknowledges
// and resolves an alert from the alerts page; a bad snooze is refused in
// plain words.
func TestAlertActions(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(c *console.Config) { c.Users[0].ActsAs = "u_feng" })
	res, err := b.engine.Alert(t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
		Form: map[string]any{"sku": "SKU-7", "warehouse": "gz-1", "platform": "tmall", "oversold_qty": 3}})
	require.NoError(t, err)
	require.Len(t, res, 1)
	tasks, err := b.store.Tasks(t.Context(), flows.TaskFilter{Assignee: "u_feng", Status: flows.TaskOpen})
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	task := tasks[0].ID
	br := b.visitor()
	token := br.login()
	require.Contains(t, br.get("/console/alerts").body, `data-task="`+task+`"`)
	tests := []struct {
		name string
		op   string
		form url.Values
		said string
	}{
		{name: "a snooze of no minutes", op: "snooze", form: url.Values{"minutes": {"0"}}, said: "暂停时长须为 1–10080 分钟的整数"},
		{name: "a snooze of words", op: "snooze", form: url.Values{"minutes": {"abc"}}, said: "暂停时长须为 1–10080 分钟的整数"},
		{name: "acknowledge", op: "ack", said: "已认领"},
		{name: "snooze once acknowledged", op: "snooze", form: url.Values{"minutes": {"30"}}, said: "这个操作在当前状态下不可用"},
		{name: "resolve", op: "resolve", said: "已标记为解决"},
	}
	for _, tt := range tests {
		form := url.Values{"csrf": {token}}
		for k, v := range tt.form {
			form[k] = v
		}
		p := br.post("/console/alerts/"+task+"/"+tt.op, form)
		require.Equal(t, http.StatusSeeOther, p.status, tt.name)
		page := br.get("/console/alerts").body
		require.Contains(t, page, tt.said, tt.name)
		if tt.op == "ack" {
			require.Contains(t, page, `<div class="muted alert-state">已认领 · 冯拣货 (u_feng) · `, "the page says who acknowledged it")
			require.NotContains(t, page, `action="/console/alerts/`+task+`/ack"`, "and offers no second acknowledgement")
		}
	}
	audit, err := b.store.Audit(t.Context(), tasks[0].InstanceID)
	require.NoError(t, err)
	var acts []string
	for _, a := range audit {
		if a.Actor == "u_feng" {
			acts = append(acts, a.Action)
		}
	}
	require.Equal(t, []string{"acknowledge", "resolve"}, acts)
	require.NotContains(t, br.get("/console/alerts").body, `data-task="`+task+`"`, "a resolved alert leaves the list")
}

// TestInstanceShowsValuesAsPeopleReadThem: the instance page shows an
// option by its label, a table row by row with its column labels, the
// results its task steps were completed with, and the engine's own audit
// actions in words.
func TestInstanceShowsValuesAsPeopleReadThem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.startOrder("100.00")
	ctx := t.Context()
	open := func(user string) string {
		views, err := b.engine.Tasks(ctx, flows.TaskQuery{Assignee: user, Status: flows.TaskOpen, Limit: 10})
		require.NoError(t, err)
		require.Len(t, views, 1)
		return views[0].Task.ID
	}
	_, err := b.engine.Act(ctx, flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: open("u_qian"), Key: "k1"})
	require.NoError(t, err)
	_, err = b.engine.Act(ctx, flows.Action{Kind: flows.ActComplete, Actor: "u_zheng", TaskID: open("u_zheng"), Key: "k2",
		Result: map[string]any{"tracking_no": "SF1234567890", "carrier": "sf"}})
	require.NoError(t, err)
	in := b.visitor()
	in.login()
	p := in.get("/console/instances/" + id)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "<dd>天猫</dd>")
	require.Contains(t, p.body, "<dd>SKU SKU-1 · 数量 2 · 单价 ¥3,400.00</dd>")
	require.Contains(t, p.body, "<dt>仓库打包 · 运单号</dt><dd>SF1234567890</dd>")
	require.Contains(t, p.body, "<dt>仓库打包 · 快递公司</dt><dd>顺丰</dd>")
	require.NotContains(t, p.body, `[{&#34;`, "no raw JSON")
	require.Contains(t, p.body, `<li data-action="cc"><span class="what">抄送</span>`, "the engine's cc in words")
}

// TestEnglishConsoleSpeaksTheFlowsEnglish: an English reader of the
// console reads the flow's own words in English where the flow file has
// them: the title, the flow's and steps' names, field labels, options.
func TestEnglishConsoleSpeaksTheFlowsEnglish(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.startOrder("100.00")
	ctx := t.Context()
	given, err := b.engine.Start(ctx, flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Title: "加急：会员大客户",
		Form: map[string]any{"order_no": "TM-1002", "platform": "jd", "amount": "50.00",
			"items": []any{map[string]any{"sku": "SKU-2", "qty": 1, "price": "50.00"}}}})
	require.NoError(t, err)
	in := b.visitor()
	in.login()
	en := func(path string) string {
		p := in.do(http.MethodGet, path, nil, "Cookie", "cf_console_lang=en")
		require.Equal(t, http.StatusOK, p.status, p.body)
		return p.body
	}
	require.Contains(t, en("/console/instances"), `<option value="order_fulfilment" >Order fulfilment</option>`)
	require.Contains(t, en("/console/flows"), ">Order fulfilment</a>")
	page := en("/console/instances/" + id)
	require.Contains(t, page, `<h1 id="inst-title">Order fulfilment · TM-1001 <span`)
	require.Contains(t, page, ">Order fulfilment v1</a>")
	require.Contains(t, page, "<dt>Platform</dt><dd>Tmall</dd>")
	require.Contains(t, page, "<dd>SKU SKU-1 · Qty 2 · Unit price ¥3,400.00</dd>")
	require.Contains(t, page, "<strong>Finance check</strong>")

	page = en("/console/instances/" + given.InstanceID)
	require.Contains(t, page, `<h1 id="inst-title">加急：会员大客户 <span`, "a title someone gave stays as given")
	list := en("/console/instances")
	require.Contains(t, list, ">Order fulfilment · TM-1001</a>")
	require.Contains(t, list, ">Order fulfilment v1</td>")
	dashboard := en("/console/tasks")
	require.Contains(t, dashboard, ">Order fulfilment · TM-1001</a>")
	require.Contains(t, dashboard, ">Finance check</td>")

	zh := in.get("/console/instances/" + id)
	require.Contains(t, zh.body, `<h1 id="inst-title">订单履约 · TM-1001 <span`)
	require.Contains(t, zh.body, "<strong>财务确认</strong>")
}

// TestInstanceShowsResultsOfBranchSteps: the results of a task inside a
// parallel branch are on the instance page too.
func TestInstanceShowsResultsOfBranchSteps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	res, err := b.engine.Start(ctx, flows.StartRequest{Actor: "u_chu", FlowID: "campaign_launch", Form: map[string]any{
		"campaign": "双12", "platform": "tmall", "starts_on": "2026-12-10", "ends_on": "2026-12-12", "budget": "50000.00",
		"plan": "https://example.com/plan.pdf"}})
	require.NoError(t, err)
	open := func(user string) string {
		views, err := b.engine.Tasks(ctx, flows.TaskQuery{Assignee: user, Status: flows.TaskOpen, Limit: 10})
		require.NoError(t, err)
		for _, v := range views {
			if v.Task.InstanceID == res.InstanceID {
				return v.Task.ID
			}
		}
		t.Fatalf("%s has no open task of %s", user, res.InstanceID)
		return ""
	}
	_, err = b.engine.Act(ctx, flows.Action{Kind: flows.ActApprove, Actor: "u_wang", TaskID: open("u_wang"), Key: "k1"})
	require.NoError(t, err)
	_, err = b.engine.Act(ctx, flows.Action{Kind: flows.ActComplete, Actor: "u_zheng", TaskID: open("u_zheng"), Key: "k2",
		Result: map[string]any{"short_skus": "CUP-1"}})
	require.NoError(t, err)
	in := b.visitor()
	in.login()
	p := in.get("/console/instances/" + res.InstanceID)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "<dt>库存盘点 · 缺货SKU</dt><dd>CUP-1</dd>")
}

// TestReturnedInstanceSaysSo: an instance returned to its applicant is
// at 退回申请人修改 (not the step id "applicant"), and its timeline says
// where it went back to.
func TestReturnedInstanceSaysSo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.startOrder("100.00")
	tasks, err := b.store.Tasks(t.Context(), flows.TaskFilter{InstanceID: id, Assignee: "u_qian"})
	require.NoError(t, err)
	_, err = b.engine.Act(t.Context(), flows.Action{Kind: flows.ActReturn, Actor: "u_qian", TaskID: tasks[0].ID,
		To: flows.ReturnToApplicant, Comment: "缺地址", Key: "k-ret"})
	require.NoError(t, err)
	br := b.visitor()
	br.login()
	page := br.get("/console/instances/" + id).body
	require.Contains(t, page, `<strong>退回申请人修改</strong>`)
	require.Contains(t, page, `<div class="says">退回给申请人</div>`)
	require.NotContains(t, page, "<strong>applicant</strong>")
}

// TestOperatorWhoIsNotAnAdministrator: an operator acting as someone
// without the admin role sees their own tasks and alerts, not the
// company's, and is told plainly that the company's pages are for
// administrators; an instance they take no part in is 403.
func TestOperatorWhoIsNotAnAdministrator(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(c *console.Config) { c.Users[0].ActsAs = "u_feng" })
	order := b.startOrder("100.00") // finance's tasks, not 冯's
	_, err := b.engine.Alert(t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
		Form: map[string]any{"sku": "SKU-7", "warehouse": "gz-1", "platform": "tmall", "oversold_qty": 3}})
	require.NoError(t, err)
	mine, err := b.store.Tasks(t.Context(), flows.TaskFilter{Assignee: "u_feng", Status: flows.TaskOpen})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	br := b.visitor()
	br.login()
	for _, path := range []string{"/console/", "/console/tasks", "/console/tasks?assignee=u_qian", "/console/alerts"} {
		p := br.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		require.NotContains(t, p.body, "钱多多 (u_qian)</td>", "%s: no one else's task", path)
	}
	require.Contains(t, br.get("/console/tasks").body, `data-task="`+mine[0].ID+`"`)
	require.Contains(t, br.get("/console/alerts").body, `data-task="`+mine[0].ID+`"`)
	for _, path := range []string{"/console/org", "/console/analytics", "/console/deadletters", "/console/retention"} {
		p := br.get(path)
		require.Equal(t, http.StatusForbidden, p.status, path)
		require.Contains(t, p.body, "这一页仅管理员可见", path)
	}
	p := br.get("/console/instances/" + order)
	require.Equal(t, http.StatusForbidden, p.status)
}

// TestWrongAddressesAnswerAsTheConsole: an unknown console address or a
// wrong method gets the console's page in words, not JSON; the static
// folder lists nothing.
func TestWrongAddressesAnswerAsTheConsole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	br.login()
	p := br.get("/console/nope")
	require.Equal(t, http.StatusNotFound, p.status)
	require.Contains(t, p.body, "没有这个页面")
	require.NotContains(t, p.body, `"error"`)
	p = br.get("/console/tasks/x/transfer")
	require.Equal(t, http.StatusMethodNotAllowed, p.status)
	require.Contains(t, p.body, "没有这个页面")
	p = b.visitor().get("/console/static/")
	require.Equal(t, http.StatusNotFound, p.status, "no listing of the static files")
	require.Equal(t, http.StatusOK, b.visitor().get("/console/static/console.css").status)
}
