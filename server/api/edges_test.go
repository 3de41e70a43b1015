package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/server/api"
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
	code, body = c.do("POST", "/instances", order("10.00"), startKey...)
	require.Equal(t, http.StatusOK, code, "a replayed start returns the first instance")
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
