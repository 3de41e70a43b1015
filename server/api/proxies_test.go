package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/internal/exampletest"
	"cardflow/server"
	"cardflow/server/api"
)

const adminToken = "admin-token-0123456789abcdef"

func TestLeaveProxyOverTheAPI(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	base := serveAPI(t, config.Default(), server.Deps{
		Routes: api.New(engine, []config.Secret{token}, nil).WithAdminTokens([]config.Secret{adminToken}).Routes})
	user, admin := bearer(t, base, token), bearer(t, base, adminToken)

	_, opened := user.start("500.00")
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	until := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	rule := `{"user":"u_qian","by":"u_wu","from":"` + from + `","until":"` + until + `","flows":["order_fulfilment"]}`

	code, body := user.do("POST", "/proxies", rule)
	require.Equal(t, http.StatusForbidden, code, "an API token may not set proxies")
	require.Equal(t, api.CodeNotAdminToken, errCode(body))

	for name, bad := range map[string]string{
		"an unknown user":     `{"user":"u_ghost","by":"u_wu","from":"` + from + `","until":"` + until + `"}`,
		"the reserved actor":  `{"user":"u_qian","by":"system","from":"` + from + `","until":"` + until + `"}`,
		"an unknown flow":     `{"user":"u_qian","by":"u_wu","from":"` + from + `","until":"` + until + `","flows":["nope"]}`,
		"a reversed window":   `{"user":"u_qian","by":"u_wu","from":"` + until + `","until":"` + from + `"}`,
		"a proxy for oneself": `{"user":"u_qian","by":"u_qian","from":"` + from + `","until":"` + until + `"}`,
	} {
		code, body = admin.do("POST", "/proxies", bad)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", name, body)
	}

	code, body = admin.do("POST", "/proxies", rule)
	require.Equal(t, http.StatusOK, code, body)
	id := body["proxy"].(map[string]any)["id"].(string)
	require.Equal(t, "api", body["proxy"].(map[string]any)["source"])

	code, body = user.do("GET", "/tasks?assignee=u_wu&status=open", nil)
	require.Equal(t, http.StatusOK, code, body)
	tasks := body["tasks"].([]any)
	require.Len(t, tasks, 1, "u_wu sees u_qian's task while covering for her")
	require.Equal(t, "u_qian", tasks[0].(map[string]any)["on_behalf_of"])

	code, body = user.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_wu","action":"approve","comment":"代钱多多审批"}`)
	require.Equal(t, http.StatusOK, code, body)
	res := body["result"].(map[string]any)
	require.Equal(t, "u_wu", res["by"])
	require.Equal(t, "u_qian", res["on_behalf_of"], "the audit says on behalf of whom")

	code, body = user.do("GET", "/proxies", nil)
	require.Equal(t, http.StatusOK, code)
	var ids []string
	for _, p := range body["proxies"].([]any) {
		ids = append(ids, p.(map[string]any)["id"].(string))
	}
	require.Contains(t, ids, id)
	require.Contains(t, ids, "org-1", "the org file's rule is listed too")

	code, body = admin.do("DELETE", "/proxies/org-1", nil)
	require.Equal(t, http.StatusConflict, code, "an org file rule is changed in the file")
	require.Equal(t, api.CodeNotApplicable, errCode(body))
	code, body = admin.do("DELETE", "/proxies/"+id, nil)
	require.Equal(t, http.StatusOK, code, body)
	code, _ = admin.do("DELETE", "/proxies/"+id, nil)
	require.Equal(t, http.StatusNotFound, code)
}
