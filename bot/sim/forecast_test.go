package sim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot/sim"
	"cardflow/flows"
)

func TestForecastShowsTheRouteWithoutStarting(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	a := b.do(t, "POST", "/sim/api/forecast", `{"user":"chen","flow_id":"order_fulfilment","form":`+orderForm+`}`)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	fc := a.body["forecast"].(map[string]any)
	var got []string
	for _, s := range fc["steps"].([]any) {
		m := s.(map[string]any)
		got = append(got, m["name"].(string)+":"+m["status"].(string))
	}
	require.Equal(t, []string{"财务确认:ask", "销售总监审批:ask", "仓库打包:ask"}, got, "6800 needs the sales director")

	a = b.do(t, "POST", "/sim/api/forecast", `{"user":"chen","flow_id":"order_fulfilment","form":{"order_no":"TM-1"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, a.status, a.raw)
	require.Equal(t, "invalid_form", a.errCode(), "a bad form is answered as a start answers it")

	a = b.do(t, "POST", "/sim/api/forecast", `{"user":"chen","flow_id":"oversell_alert","form":{}}`)
	require.Equal(t, http.StatusConflict, a.status, a.raw)
	require.Equal(t, "not_startable", a.errCode())

	tasks, err := b.engine.Tasks(t.Context(), flows.TaskQuery{Assignee: "u_qian"})
	require.NoError(t, err)
	require.Empty(t, tasks, "a forecast starts nothing")
}
