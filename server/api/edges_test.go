package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/server"
	"cardflow/server/api"
	"cardflow/storage/sqlite"
)

// The tests in this file drive the API as an integrator would, at the edges
// where an independent black-box test found it answering wrongly.

func TestIdempotencyKeyIsBoundToItsRequest(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	_, opened := c.start("500.00")
	task := opened[0] // u_qian's, of the three finance users
	key := []string{"Idempotency-Key", "click-1"}

	code, first := c.do("POST", "/tasks/"+task+"/decision", `{"actor":"u_qian","action":"approve","comment":"同意"}`, key...)
	require.Equal(t, http.StatusOK, code, first)

	code, body := c.do("POST", "/tasks/"+task+"/decision", `{"actor":"u_qian","action":"approve","comment":"同意"}`, key...)
	require.Equal(t, http.StatusOK, code, "the same request replayed gets its first answer")
	require.Equal(t, first["result"], body["result"])

	for name, other := range map[string]string{
		"another comment":     `{"actor":"u_qian","action":"approve","comment":"好的"}`,
		"a user not assigned": `{"actor":"u_wu","action":"approve","comment":"同意"}`,
		"another action":      `{"actor":"u_qian","action":"reject","comment":"同意"}`,
	} {
		code, body = c.do("POST", "/tasks/"+task+"/decision", other, key...)
		require.Equal(t, http.StatusUnprocessableEntity, code, name)
		require.Equal(t, api.CodeKeyReused, errCode(body), name)
	}

	startKey := []string{"Idempotency-Key", "start-1"}
	code, body = c.do("POST", "/instances", order("10.00"), startKey...)
	require.Equal(t, http.StatusCreated, code, body)
	firstID := body["result"].(map[string]any)["instance_id"]
	code, body = c.do("POST", "/instances", order("10.00"), startKey...)
	require.Equal(t, http.StatusOK, code, "a replayed start returns the first instance")
	require.Equal(t, firstID, body["result"].(map[string]any)["instance_id"])
	code, body = c.do("POST", "/instances", order("11.00"), startKey...)
	require.Equal(t, http.StatusUnprocessableEntity, code, "another form under the same key")
	require.Equal(t, api.CodeKeyReused, errCode(body))
	code, body = c.do("POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"u_wu","form":{"order_no":"TM-1","platform":"tmall",
		"amount":"10.00","cost":"100.00","items":[{"sku":"SKU-1","qty":1,"price":"10.00"}]}}`, startKey...)
	require.Equal(t, http.StatusUnprocessableEntity, code, "another applicant under the same key")
	require.Equal(t, api.CodeKeyReused, errCode(body))
}

func TestClickOnTransferredTaskIsAConflict(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	_, opened := c.start("6800.00")
	code, body := c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"approve"}`)
	require.Equal(t, http.StatusOK, code, body)
	director := body["result"].(map[string]any)["opened"].([]any)[0].(string)

	key := []string{"Idempotency-Key", "transfer-1"}
	code, body = c.do("POST", "/tasks/"+director+"/decision", `{"actor":"u_zhou","action":"transfer","to":"u_wang"}`, key...)
	require.Equal(t, http.StatusOK, code, body)

	code, body = c.do("POST", "/tasks/"+director+"/decision", `{"actor":"u_zhou","action":"approve"}`)
	require.Equal(t, http.StatusConflict, code, "the task was transferred away: nothing was approved")
	require.Equal(t, api.CodeAlreadyDecided, errCode(body))
	decision := body["error"].(map[string]any)["decision"].(map[string]any)
	require.Equal(t, "transfer", decision["outcome"])
	require.Equal(t, "u_zhou", decision["by"])
	require.NotEmpty(t, decision["at"])

	code, body = c.do("POST", "/tasks/"+director+"/decision", `{"actor":"u_zhou","action":"transfer","to":"u_wang"}`, key...)
	require.Equal(t, http.StatusOK, code, "a replayed transfer still gets its original answer")
	require.Equal(t, "transfer", body["result"].(map[string]any)["outcome"])
}

func TestReservedAndUnknownActorsAreRefused(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	inst, opened := c.start("500.00")
	tests := []struct {
		name, method, path, body string
	}{
		{"start as the system", "POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"system","form":{"order_no":"TM-1",
			"platform":"tmall","amount":"10.00","items":[{"sku":"SKU-1","qty":1,"price":"10.00"}]}}`},
		{"start as nobody", "POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"u_ghost","form":{"order_no":"TM-1",
			"platform":"tmall","amount":"10.00","items":[{"sku":"SKU-1","qty":1,"price":"10.00"}]}}`},
		{"withdraw as the system", "POST", "/instances/" + inst + "/actions", `{"actor":"system","action":"withdraw"}`},
		{"approve as the system", "POST", "/tasks/" + opened[0] + "/decision", `{"actor":"system","action":"approve"}`},
		{"approve as nobody", "POST", "/tasks/" + opened[0] + "/decision", `{"actor":"u_ghost","action":"approve"}`},
		{"read as the system", "GET", "/instances/" + inst + "?viewer=system", ""},
	}
	for _, tt := range tests {
		var body any
		if tt.body != "" {
			body = tt.body
		}
		code, got := c.do(tt.method, tt.path, body)
		require.Equal(t, http.StatusUnprocessableEntity, code, tt.name)
		require.Equal(t, api.CodeUnknownUser, errCode(got), tt.name)
	}
	code, got := c.do("GET", "/instances/"+inst+"?viewer=u_chen", nil)
	require.Equal(t, http.StatusOK, code)
	for _, a := range got["instance"].(map[string]any)["audit"].([]any) {
		e := a.(map[string]any)
		require.NotEqual(t, "withdraw", e["action"], "nothing was written under the reserved name")
	}
}

func TestCommentAndUrgeOneTask(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	_, opened := c.start("500.00")
	code, body := c.do("POST", "/tasks/"+opened[1]+"/decision", `{"actor":"u_chen","action":"urge","comment":"客户在等"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, opened[1], body["result"].(map[string]any)["task_id"])
	code, body = c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"comment","comment":"在核对到账"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, opened[0], body["result"].(map[string]any)["task_id"])
	code, body = c.do("POST", "/tasks/nope.t0001/decision", `{"actor":"u_qian","action":"comment","comment":"x"}`)
	require.Equal(t, http.StatusNotFound, code, body)
}

func TestUserFieldMustNameAUser(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	purchase := func(requester string) string {
		return `{"flow_id":"purchase_request","applicant":"u_wei","form":{"title":"包材","supplier":"A","requester":"` + requester + `",
			"amount":"100.00","needed_by":"2026-12-31","lines":[{"sku":"SKU-1","qty":1,"unit_price":"100.00"}]}}`
	}
	code, body := c.do("POST", "/instances", purchase("u_ghost"))
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Equal(t, api.CodeInvalidForm, errCode(body))
	fields := body["error"].(map[string]any)["fields"].([]any)
	require.Len(t, fields, 1)
	require.Equal(t, "requester", fields[0].(map[string]any)["field"])
	require.Equal(t, "unknown_user", fields[0].(map[string]any)["code"])

	code, body = c.do("POST", "/instances", purchase("system"))
	require.Equal(t, http.StatusUnprocessableEntity, code, "the reserved actor is no user either")
	require.Equal(t, api.CodeInvalidForm, errCode(body))
	code, body = c.do("POST", "/instances", purchase("u_feng"))
	require.Equal(t, http.StatusCreated, code, body)
}

func TestMoneyKeepsItsScaleAndTitlesSayWhat(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	code, body := c.do("POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"TM-1001","platform":"tmall",
		"amount":"6800.00","cost":"1000.50","items":[{"sku":"SKU-1","qty":2,"price":"3400"}]}}`)
	require.Equal(t, http.StatusCreated, code, body)
	inst := body["instance"].(map[string]any)
	require.Equal(t, "订单履约 · TM-1001", inst["title"], "the flow's title template")
	values := map[string]any{}
	for _, f := range inst["form"].([]any) {
		values[f.(map[string]any)["key"].(string)] = f.(map[string]any)["value"]
	}
	require.Equal(t, "6800.00", values["amount"])
	require.Equal(t, "1000.50", values["cost"])
	require.Equal(t, "3400.00", values["items"].([]any)[0].(map[string]any)["price"])

	code, body = c.do("POST", "/instances", `{"flow_id":"campaign_launch","applicant":"u_wu","title":"双十二大促","form":{"campaign":"双12",
		"platform":"tmall","starts_on":"2026-12-10","ends_on":"2026-12-12","budget":"50000","plan":"https://example.com/plan.pdf"}}`)
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, "双十二大促", body["instance"].(map[string]any)["title"], "an explicit title wins")
}

func TestDefaultTitleNamesTheApplicant(t *testing.T) {
	t.Parallel()
	base, engine := newServerEngine(t, token)
	f, err := flows.ParseFlow("untitled.yaml", []byte(joinLines(
		"id: untitled", "name: 报销", "form: [{key: note, type: string}]",
		"steps:", "  - {id: s, type: approval, assignees: {role: finance}}")))
	require.NoError(t, err)
	_, err = engine.Register(t.Context(), f)
	require.NoError(t, err)
	c := bearer(t, base, token)
	code, body := c.do("POST", "/instances", `{"flow_id":"untitled","applicant":"u_chen","form":{}}`)
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, "陈客服主管提交的报销", body["instance"].(map[string]any)["title"], "as Feishu and DingTalk title it")
}

func TestTextThatCannotBeStoredIsRefused(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	inst, opened := c.start("42.00")
	tests := []struct {
		name, method, path, body string
		header                   []string
		wantField                string
	}{
		{"NUL in a path id", "GET", "/instances/ab%00cd?viewer=u_chen", "", nil, "path"},
		{"invalid UTF-8 in a path id", "POST", "/tasks/%FF%FE/decision", `{"actor":"u_qian","action":"approve"}`, nil, "path"},
		{"invalid UTF-8 in a query", "GET", "/tasks?assignee=%FF", "", nil, "query parameter"},
		{"NUL in a query", "GET", "/instances/" + inst + "?viewer=%00", "", nil, "query parameter"},
		{"NUL in a comment", "POST", "/tasks/" + opened[0] + "/decision", `{"actor":"u_qian","action":"approve","comment":"a\u0000b"}`, nil, "comment"},
		{"NUL in a title", "POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"u_chen","title":"x\u0000","form":{}}`, nil, "title"},
		{"NUL in an applicant", "POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"u_chen\u0000","form":{}}`, nil, "actor"},
		{"NUL in a form value", "POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"buyer_note":"\u0000"}}`, nil, "form.buyer_note"},
		{"bad bytes in the JSON body", "POST", "/tasks/" + opened[0] + "/decision", "{\"actor\":\"u_qian\",\"action\":\"approve\",\"comment\":\"\xff\"}", nil, "UTF-8"},
		{"bad bytes in the idempotency key", "POST", "/tasks/" + opened[0] + "/decision", `{"actor":"u_qian","action":"approve"}`,
			[]string{"Idempotency-Key", "k\xff"}, "Idempotency-Key"},
		{"a comment of 2001 characters", "POST", "/tasks/" + opened[0] + "/decision",
			`{"actor":"u_qian","action":"approve","comment":"` + strings.Repeat("a", 2001) + `"}`, nil, "comment"},
		{"a title of 101 characters", "POST", "/instances",
			`{"flow_id":"order_fulfilment","applicant":"u_chen","title":"` + strings.Repeat("题", 101) + `","form":{}}`, nil, "title"},
	}
	for _, tt := range tests {
		var body any
		if tt.body != "" {
			body = tt.body
		}
		code, got := c.do(tt.method, tt.path, body, tt.header...)
		require.Equal(t, http.StatusBadRequest, code, tt.name)
		require.Equal(t, api.CodeInvalidInput, errCode(got), tt.name)
		require.Contains(t, got["error"].(map[string]any)["message"], tt.wantField, tt.name)
	}
}

func TestNumbersAndMoneyHaveLimits(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	form := func(amount, qty string) string {
		return `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"TM-1","platform":"tmall",
			"amount":` + amount + `,"items":[{"sku":"SKU-1","qty":` + qty + `,"price":"1.00"}]}}`
	}
	tests := []struct {
		name, amount, qty, field, code string
	}{
		{"900,000 nines", `"` + strings.Repeat("9", 900000) + `"`, "1", "amount", "format"},
		{"19 whole digits", `"1234567890123456789.00"`, "1", "amount", "max"},
		{"a number a float64 cannot hold", `"1.00"`, "12345678901234567890", "items[0].qty", "format"},
		{"too many places", `"1.001"`, "1", "amount", "precision"},
	}
	for _, tt := range tests {
		code, body := c.do("POST", "/instances", form(tt.amount, tt.qty))
		if tt.name == "900,000 nines" && code == http.StatusRequestEntityTooLarge {
			continue // the test server's body limit is smaller than the nines
		}
		require.Equal(t, http.StatusUnprocessableEntity, code, tt.name)
		fields := body["error"].(map[string]any)["fields"].([]any)
		require.Equal(t, tt.field, fields[0].(map[string]any)["field"], tt.name)
		require.Equal(t, tt.code, fields[0].(map[string]any)["code"], tt.name)
	}
	code, body := c.do("POST", "/instances", form(`"999999999999999999.99"`, "123456789012345"))
	require.Equal(t, http.StatusCreated, code, "18 whole digits and 15 significant digits are held exactly: %v", body)
}

func TestSmallerEdges(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	_, opened := c.start("42.00")

	c.auth = "bearer " + token
	code, body := c.do("GET", "/tasks?assignee=u_qian", nil)
	require.Equal(t, http.StatusOK, code, "the scheme is case-insensitive (RFC 9110): %v", body)
	c.auth = "BEARER   " + token
	code, _ = c.do("GET", "/tasks?assignee=u_qian", nil)
	require.Equal(t, http.StatusOK, code)
	c.auth = "Basic " + token
	code, _ = c.do("GET", "/tasks?assignee=u_qian", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	c.auth = "Bearer " + token

	code, body = c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"return","to":"previous","comment":"x"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body["error"].(map[string]any)["message"], "no previous step to return to")

	code, body = c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"complete"}`)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body["error"].(map[string]any)["message"], "is an approval task")

	code, body = c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"transfer","to":"u_chen"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "order_fulfilment skips applicants: no hand-over to them")
	require.Contains(t, body["error"].(map[string]any)["message"], "may not approve their own request")
}

func joinLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// downStore is a store whose database went away: reads fail the way the
// stores report an unreachable database.
type downStore struct{ flows.Store }

func (downStore) Instance(context.Context, string) (flows.Instance, error) {
	return flows.Instance{}, fmt.Errorf("postgres: read instance: %w: dial tcp 10.0.0.7:5432: connect: connection refused", flows.ErrUnavailable)
}

func TestStoreOutageIsServiceUnavailable(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "down.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	down := flows.NewEngine(downStore{store})
	cfg := config.Default()
	base := serveAPI(t, cfg, server.Deps{Routes: api.New(down, []config.Secret{token}, nil).Routes})
	c := bearer(t, base, token)
	req, err := http.NewRequest("GET", c.base+"/instances/x?viewer=u_chen", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", c.auth)
	// The directory is empty in this store, so name a user first: the
	// outage must be reported before anything else is decided.
	require.NoError(t, store.ReplaceOrg(t.Context(), flows.Org{
		Users: []flows.User{{ID: "u_chen", Name: "陈"}}, Departments: []flows.Department{{ID: "d", Name: "D"}}}))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(raw))
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	require.Contains(t, string(raw), api.CodeUnavailable)
	require.NotContains(t, string(raw), "10.0.0.7", "the database's address stays in the log")
}

func TestErrorsSayNothingOfTheBackend(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	code, body := c.do("POST", "/tasks/nope/decision", `{"actor":"u_qian","action":"approve"}`)
	require.Equal(t, http.StatusNotFound, code)
	msg := body["error"].(map[string]any)["message"].(string)
	require.NotContains(t, msg, "sqlite")
	require.NotContains(t, msg, "flows:")
	code, body = c.do("POST", "/instances", `{"flow_id":"oversell_alert","applicant":"u_chen","form":{}}`)
	require.Equal(t, http.StatusConflict, code)
	msg = body["error"].(map[string]any)["message"].(string)
	require.Equal(t, 1, strings.Count(msg, "start oversell_alert"), "said once: %s", msg)
	require.NotContains(t, msg, "flows:")
}
