package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/server"
	"cardflow/server/api"
)

// page is one page of a paged list: the rows' ids and the cursor.
type page struct {
	ids  []string
	rows []map[string]any
	next string
}

// list gets one page of path's list, named name in the answer.
func (c *client) list(path, name string) page {
	c.t.Helper()
	code, body := c.do("GET", path, nil)
	require.Equal(c.t, http.StatusOK, code, body)
	var p page
	for _, r := range body[name].([]any) {
		row := r.(map[string]any)
		p.rows = append(p.rows, row)
		p.ids = append(p.ids, row["id"].(string))
	}
	if next, ok := body["next_cursor"]; ok {
		p.next = next.(string)
		require.NotEmpty(c.t, p.next, "next_cursor is absent at the end, never empty")
	}
	return p
}

// walk lists every page of path (whose query it extends with limit and
// cursor), calling between after each page but the last, and returns the
// ids in the order listed and the number of pages.
func (c *client) walk(path, name string, limit int, between func()) ([]string, int) {
	c.t.Helper()
	var all []string
	cursor, pages := "", 0
	for {
		p := c.list(path+"&limit="+itoa(limit)+"&cursor="+url.QueryEscape(cursor), name)
		pages++
		require.LessOrEqual(c.t, len(p.ids), limit)
		all = append(all, p.ids...)
		if p.next == "" {
			return all, pages
		}
		require.Less(c.t, pages, 100, "the walk does not end")
		cursor = p.next
		between()
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestListInstancesWalksEveryPageOnce(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	var started []string
	for range 7 {
		id, _ := c.start("42.00")
		started = append(started, id)
	}
	slices.Reverse(started) // newest first

	for _, viewer := range []string{"u_shen", "u_chen", "u_qian"} {
		t.Run(viewer, func(t *testing.T) {
			c := &client{t: t, base: c.base, auth: c.auth}
			want := slices.Clone(started)
			got, pages := c.walk("/instances?flow=order_fulfilment&viewer="+viewer, "instances", 3, func() {
				id, _ := c.start("43.00") // newer than every cursor: on no page still to come
				started = append([]string{id}, started...)
			})
			require.Equal(t, want, got, "every instance once, newest first, none started later")
			require.Equal(t, (len(want)+2)/3, pages)
		})
	}
}

func TestListInstancesShowsWhatTheViewerMaySee(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	small, _ := c.start("42.00")
	big, opened := c.start("6800.00")
	code, body := c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"approve"}`)
	require.Equal(t, http.StatusOK, code, body)

	p := c.list("/instances?viewer=u_zhou", "instances")
	require.Equal(t, []string{big}, p.ids, "the director has a task in the big order only")
	require.Equal(t, "director", p.rows[0]["viewed_as"])
	var keys []string
	for _, f := range p.rows[0]["form"].([]any) {
		keys = append(keys, f.(map[string]any)["key"].(string))
	}
	require.Contains(t, keys, "amount")
	require.NotContains(t, keys, "cost", "the director's step hides the cost")
	require.Equal(t, "订单履约", p.rows[0]["flow_name"])

	p = c.list("/instances?viewer=u_wei", "instances")
	require.Empty(t, p.ids, "an outsider sees none")
	require.Empty(t, p.next)

	p = c.list("/instances?viewer=u_chen", "instances")
	require.Equal(t, []string{big, small}, p.ids)
	require.Equal(t, "cost", p.rows[0]["form"].([]any)[3].(map[string]any)["key"], "the applicant sees every field")
}

func TestListInstancesFilters(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	before := time.Now().UTC()
	first, _ := c.start("42.00")
	between := time.Now().UTC()
	second, _ := c.start("43.00")
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{name: "all", query: url.Values{}, want: []string{second, first}},
		{name: "flow", query: url.Values{"flow": {"purchase_request"}}, want: nil},
		{name: "status", query: url.Values{"status": {"running"}}, want: []string{second, first}},
		{name: "another status", query: url.Values{"status": {"approved"}}, want: nil},
		{name: "applicant", query: url.Values{"applicant": {"u_chen"}}, want: []string{second, first}},
		{name: "another applicant", query: url.Values{"applicant": {"u_wang"}}, want: nil},
		{name: "from", query: url.Values{"from": {between.Format(time.RFC3339Nano)}}, want: []string{second}},
		{name: "to", query: url.Values{"to": {between.Format(time.RFC3339Nano)}}, want: []string{first}},
		{
			name:  "from and to in another zone",
			query: url.Values{"from": {before.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339Nano)}, "to": {between.Format(time.RFC3339Nano)}},
			want:  []string{first},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.query.Set("viewer", "u_shen")
			p := (&client{t: t, base: c.base, auth: c.auth}).list("/instances?"+tc.query.Encode(), "instances")
			require.Equal(t, tc.want, p.ids)
		})
	}
}

// TestListInstancesByTitle: title finds the instances whose title
// contains it (订单履约 · {order_no}), ASCII letters in either case.
func TestListInstancesByTitle(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	started := map[string]string{}
	for _, no := range []string{"TM-1001", "TM-1002", "JD-2001"} {
		code, body := c.do("POST", "/instances", strings.Replace(order("42.00"), `"TM-1"`, `"`+no+`"`, 1))
		require.Equal(t, http.StatusCreated, code, body)
		started[no] = body["result"].(map[string]any)["instance_id"].(string)
	}
	tests := []struct {
		title string
		want  []string
	}{
		{title: "tm-100", want: []string{started["TM-1002"], started["TM-1001"]}},
		{title: "JD-2001", want: []string{started["JD-2001"]}},
		{title: "履约 · jd", want: []string{started["JD-2001"]}},
		{title: "PDD", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.title, func(t *testing.T) {
			q := url.Values{"viewer": {"u_shen"}, "title": {tc.title}}
			p := (&client{t: t, base: c.base, auth: c.auth}).list("/instances?"+q.Encode(), "instances")
			require.Equal(t, tc.want, p.ids)
		})
	}
}

func TestListInstancesRejectsBadParameters(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	tests := []struct {
		name, query, names string
		status             int
		code               string
	}{
		{name: "no viewer", query: "", names: "viewer", status: 400, code: api.CodeInvalidInput},
		{name: "unknown viewer", query: "viewer=u_nobody", names: "u_nobody", status: 422, code: api.CodeUnknownUser},
		{name: "limit zero", query: "viewer=u_chen&limit=0", names: "limit", status: 400, code: api.CodeInvalidInput},
		{name: "limit too big", query: "viewer=u_chen&limit=201", names: "limit", status: 400, code: api.CodeInvalidInput},
		{name: "limit not a number", query: "viewer=u_chen&limit=ten", names: "limit", status: 400, code: api.CodeInvalidInput},
		{name: "unknown status", query: "viewer=u_chen&status=maybe", names: "status", status: 400, code: api.CodeInvalidInput},
		{name: "bad from", query: "viewer=u_chen&from=yesterday", names: "from", status: 400, code: api.CodeInvalidInput},
		{name: "to before from", query: "viewer=u_chen&from=2026-11-30T10:00:00Z&to=2026-11-30T09:00:00Z", names: "to", status: 400, code: api.CodeInvalidInput},
		{name: "bad cursor", query: "viewer=u_chen&cursor=bm90LWEtY3Vyc29y", names: "cursor", status: 400, code: api.CodeInvalidInput},
		{name: "cursor not base64", query: "viewer=u_chen&cursor=%21%21", names: "cursor", status: 400, code: api.CodeInvalidInput},
		{name: "title too long", query: "viewer=u_chen&title=" + strings.Repeat("订", 101), names: "title", status: 400, code: api.CodeInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := c.do("GET", "/instances?"+tc.query, nil)
			require.Equal(t, tc.status, code, body)
			require.Equal(t, tc.code, errCode(body))
			require.Contains(t, body["error"].(map[string]any)["message"], tc.names)
		})
	}
}

// newAdminClients serves the API with a write token and an admin token and
// returns a client of each.
func newAdminClients(t *testing.T) (user, admin *client, engine *flows.Engine) {
	t.Helper()
	_, engine = exampletest.World(t)
	base := serveAPI(t, config.Default(), server.Deps{
		Routes: api.New(engine, []config.Secret{token}, nil).WithAdminTokens([]config.Secret{adminToken}).Routes})
	return bearer(t, base, token), bearer(t, base, adminToken), engine
}

func TestListTasksWalksEveryPageOnce(t *testing.T) {
	t.Parallel()
	c, admin, _ := newAdminClients(t)
	var qian []string // u_qian's open tasks, oldest first
	for range 5 {
		_, opened := c.start("42.00")
		qian = append(qian, opened[0])
	}
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	until := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	code, body := admin.do("POST", "/proxies", `{"user":"u_qian","by":"u_wu","from":"`+from+`","until":"`+until+`"}`)
	require.Equal(t, http.StatusOK, code, body)

	for _, user := range []string{"u_qian", "u_wu"} {
		t.Run(user, func(t *testing.T) {
			c := &client{t: t, base: c.base, auth: c.auth}
			added := 0
			got, _ := c.walk("/tasks?assignee="+user, "tasks", 2, func() {
				if added < 3 {
					// Newer than every cursor: listed at the end, once.
					_, opened := c.start("43.00")
					qian = append(qian, opened[0])
					added++
				}
			})
			require.Equal(t, qian, got, "every task once, oldest first, the new ones last")
		})
	}

	p := c.list("/tasks?assignee=u_wu&limit=1", "tasks")
	require.Equal(t, "u_qian", p.rows[0]["on_behalf_of"], "u_wu's page holds u_qian's tasks while he covers for her")
}

func TestListTasksFilters(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	_, first := c.start("42.00")
	between := time.Now().UTC()
	_, second := c.start("43.00")
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{name: "all", query: url.Values{}, want: []string{first[0], second[0]}},
		{name: "flow", query: url.Values{"flow": {"order_fulfilment"}}, want: []string{first[0], second[0]}},
		{name: "another flow", query: url.Values{"flow": {"purchase_request"}}, want: nil},
		{name: "from", query: url.Values{"from": {between.Format(time.RFC3339Nano)}}, want: []string{second[0]}},
		{name: "to", query: url.Values{"to": {between.Format(time.RFC3339Nano)}}, want: []string{first[0]}},
		{name: "status", query: url.Values{"status": {"approved"}}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.query.Set("assignee", "u_qian")
			p := (&client{t: t, base: c.base, auth: c.auth}).list("/tasks?"+tc.query.Encode(), "tasks")
			require.Equal(t, tc.want, p.ids)
		})
	}
}

func TestListTasksRejectsBadParameters(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	tests := []struct {
		name, query, names, code string
	}{
		{name: "bad from", query: "from=monday", names: "from", code: api.CodeInvalidInput},
		{name: "to before from", query: "from=2026-11-30T10:00:00Z&to=2026-11-30T09:00:00Z", names: "to", code: api.CodeInvalidInput},
		{name: "bad cursor", query: "cursor=MXg", names: "cursor", code: api.CodeInvalidInput},
		// The parameters GET /tasks had before paging keep their answers.
		{name: "limit too big", query: "limit=1001", names: "limit", code: server.CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := c.do("GET", "/tasks?assignee=u_qian&"+tc.query, nil)
			require.Equal(t, http.StatusBadRequest, code, body)
			require.Equal(t, tc.code, errCode(body))
			require.Contains(t, body["error"].(map[string]any)["message"], tc.names)
		})
	}
}

func TestListInstancesGoesOnPastWhatTheViewerMayNotSee(t *testing.T) {
	t.Parallel()
	store, engine := exampletest.World(t)
	base := serveAPI(t, config.Default(), server.Deps{Routes: api.New(engine, []config.Secret{token}, nil).Routes})
	c := bearer(t, base, token)
	code, body := c.do("POST", "/instances", strings.Replace(order("42.00"), "u_chen", "u_wei", 1))
	require.Equal(t, http.StatusCreated, code, body)
	mine := body["result"].(map[string]any)["instance_id"].(string)
	other, _ := c.start("43.00")
	inst, err := store.Instance(t.Context(), other)
	require.NoError(t, err)
	// More instances u_wei has no part in, all newer than his, than one
	// page reads.
	for i := range 1100 {
		cp := inst
		cp.ID, cp.CreatedAt = fmt.Sprintf("copy-%04d", i), inst.CreatedAt.Add(time.Duration(i+1)*time.Millisecond)
		_, err := store.Apply(t.Context(), flows.Change{Instance: &cp, Create: true})
		require.NoError(t, err)
	}

	first := c.list("/instances?viewer=u_wei", "instances")
	require.Empty(t, first.ids)
	require.NotEmpty(t, first.next, "the page stopped after reading its share of rows and says where to go on")
	got, pages := c.walk("/instances?viewer=u_wei", "instances", 50, func() {})
	require.Equal(t, []string{mine}, got)
	require.Equal(t, 2, pages)
}
