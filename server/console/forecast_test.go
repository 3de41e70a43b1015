package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// TestRoutePreview: the flow page previews the route a start would take
// now (the engine's forecast) for an applicant and a form, and starts
// nothing; bad input is said in plain words on the page.
func TestRoutePreview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.visitor()
	br.login()
	before, err := b.store.Tasks(t.Context(), flows.TaskFilter{Limit: 1000})
	require.NoError(t, err)

	page := br.get("/console/flows/order_fulfilment")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "预览审批路线")
	require.Contains(t, page.body, "&#34;order_no&#34;: &#34;&#34;", "the form starts as a skeleton of the flow's fields")
	require.Contains(t, page.body, "&#34;sku&#34;", "a table with one row of its columns")

	order := func(amount string) string {
		return `{"order_no":"TM-9","platform":"tmall","amount":"` + amount + `","items":[{"sku":"SKU-1","qty":1,"price":"` + amount + `"}]}`
	}
	preview := func(applicant, form string) string {
		t.Helper()
		p := br.get("/console/flows/order_fulfilment?" + url.Values{"applicant": {applicant}, "form": {form}}.Encode())
		require.Equal(t, http.StatusOK, p.status, p.body)
		return p.body
	}
	tests := []struct {
		name      string
		applicant string
		form      string
		want      []string
		not       []string
	}{
		{name: "over ¥5,000 goes to the sales director", applicant: "u_chen", form: order("6800.00"),
			want: []string{`id="forecast-steps"`, "财务确认 · 或签", "钱多多、孙会计、赵敏", "销售总监审批", "周总监", "仓库打包"},
			not:  []string{"不经过"}},
		{name: "a small order skips the director", applicant: "u_chen", form: order("100.00"),
			want: []string{"财务确认 · 或签", "不经过（条件不满足", "条件不满足：订单金额 &gt; 5000"}, not: []string{"条件不满足：form.amount"}},
		{name: "no applicant", applicant: "", form: order("100.00"), want: []string{`id="forecast-error"`, "请选择申请人"},
			not: []string{`id="forecast-steps"`}},
		{name: "not JSON", applicant: "u_chen", form: `{"order_no":`, want: []string{"表单须是一个 JSON 对象"},
			not: []string{"unexpected EOF"}},
		{name: "JSON but no object", applicant: "u_chen", form: `[]`, want: []string{"表单须是一个 JSON 对象"}},
		{name: "a form a start would refuse", applicant: "u_chen", form: `{"platform":"tmall"}`,
			want: []string{`id="forecast-error"`, "表单有误：订单号必填", "订单金额必填"}, not: []string{`id="forecast-steps"`}},
		{name: "an unknown applicant", applicant: "u_nobody", form: order("100.00"), want: []string{`id="forecast-error"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := preview(tt.applicant, tt.form)
			for _, w := range tt.want {
				require.Contains(t, body, w)
			}
			for _, n := range tt.not {
				require.NotContains(t, body, n)
			}
		})
	}
	after, err := b.store.Tasks(t.Context(), flows.TaskFilter{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, after, len(before), "a preview starts nothing")
	require.True(t, strings.Contains(preview("u_chen", order("6800.00")), `value="u_chen" selected`), "the form keeps what was asked")
}
