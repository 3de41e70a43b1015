package flows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExamples loads every example flow, checks it against the example org
// and starts each with a valid form, so the files shipped in configs/ stay
// usable as they are.
func TestExamples(t *testing.T) {
	t.Parallel()
	flows, err := LoadDir(filepath.Join("..", "configs", "flows"))
	require.NoError(t, err)
	ids := make([]string, len(flows))
	for i, f := range flows {
		ids[i] = f.ID
	}
	require.Equal(t, []string{"campaign_launch", "kpi_alert", "low_stock_alert", "order_fulfilment", "oversell_alert", "purchase_request", "return_exchange", "stock_push_alert", "supplier_onboarding"}, ids)

	org := loadExampleOrg(t)
	forms := map[string]map[string]any{
		"campaign_launch": {"campaign": "双11", "platform": "tmall", "starts_on": "2025-11-01", "ends_on": "2025-11-11",
			"budget": "200000", "plan": "https://files.example.com/plan.pdf"},
		"low_stock_alert": {"sku": "SOCK-1", "warehouse": "main", "sellable": 3, "threshold": 5},
		"order_fulfilment": {"order_no": "TM-1001", "platform": "tmall", "amount": "5000.01",
			"items": []any{map[string]any{"sku": "SKU-1", "qty": 2, "price": "2500.005"}}},
		"kpi_alert": {"rule": "refund_rate_high", "kpi": "退款率", "period": "11月29日", "value": "6.2%",
			"threshold": "高于 5.0%"},
		"oversell_alert":   {"sku": "SKU-1", "warehouse": "hz-1", "platform": "jd", "oversold_qty": 3},
		"purchase_request": {"title": "包材", "supplier": "某纸业", "requester": "u_feng", "amount": "60000", "needed_by": "2025-12-01", "lines": []any{map[string]any{"sku": "BOX-1", "qty": 1000, "unit_price": "60"}}},
		"return_exchange":  {"order_no": "JD-9", "kind": "退货", "reason": "破损", "refund_amount": "99.90"},
		"stock_push_alert": {"target": "tmall-bridge", "failures": 5},
		"supplier_onboarding": {"supplier_name": "某纸业", "category": "包材", "license": "https://files.example.com/l.png",
			"contact": "李经理", "bank_account": "6222020200112233445", "annual_volume": "1200000"},
	}
	for _, f := range flows {
		t.Run(f.ID, func(t *testing.T) {
			require.NoError(t, f.CheckOrg(org))
			_, err := f.ValidateForm(forms[f.ID])
			if f.ID == "order_fulfilment" {
				// Guard that the example form is really checked: a price
				// finer than a fen is refused.
				require.EqualError(t, err, "invalid form: items[0].price: at most 2 decimal places")
				return
			}
			require.NoError(t, err)
		})
	}
}

// TestExampleRouting walks the example flows' conditions with forms at the
// edges of their thresholds.
func TestExampleRouting(t *testing.T) {
	t.Parallel()
	flows, err := LoadDir(filepath.Join("..", "configs", "flows"))
	require.NoError(t, err)
	byID := map[string]*Flow{}
	for _, f := range flows {
		byID[f.ID] = f
	}
	tests := []struct {
		name, flow, step string
		env              Env
		want             bool
	}{
		{name: "director not asked at exactly 5000", flow: "order_fulfilment", step: "director", env: Env{Form: map[string]any{"amount": "5000.00"}}, want: false},
		{name: "director asked above 5000", flow: "order_fulfilment", step: "director", env: Env{Form: map[string]any{"amount": "5000.01"}}, want: true},
		{name: "会签 from 50000", flow: "purchase_request", step: "gm_countersign", env: Env{Form: map[string]any{"amount": "50000"}}, want: true},
		{name: "no 会签 below 50000", flow: "purchase_request", step: "gm_countersign", env: Env{Form: map[string]any{"amount": "49999.99"}}, want: false},
		{name: "restock for presale", flow: "campaign_launch", step: "restock", env: Env{Form: map[string]any{"presale": true}}, want: true},
		{name: "cs told when orders are cancelled", flow: "oversell_alert", step: "tell_cs", env: Env{Results: map[string]map[string]any{"handle": {"action": "cancel_orders"}}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := byID[tt.flow]
			got, err := f.Eval(f.Step(tt.step).When, tt.env)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	r := byID["return_exchange"]
	to, err := r.Route(r.Step("route_refund"), Env{Form: map[string]any{"kind": "换货"}, Results: map[string]map[string]any{"qc": {"passed": true}}})
	require.NoError(t, err)
	require.Equal(t, "reship", to)
	to, err = r.Route(r.Step("route_refund"), Env{Form: map[string]any{"kind": "退货"}, Results: map[string]map[string]any{"qc": {"passed": false}}})
	require.NoError(t, err)
	require.Equal(t, "notify_rejected", to)
}

func TestLoadDirReportsEveryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	ok := "# a comment first\nid: %s\nname: n\nsteps: [{id: a, type: task, assignees: {role: cs}}]\n"
	write("a.yaml", strings.Replace(ok, "%s", "same", 1))
	write("b.yaml", strings.Replace(ok, "%s", "same", 1))
	write("c.yaml", "id: c\nname: c\nsteps: [{id: a, type: tsk}]\n")
	write("d.yaml", "id: d\n")
	write("notes.txt", "not a flow")

	flows, err := LoadDir(dir)
	require.Nil(t, flows, "no flow is returned when any file is bad")
	require.Equal(t, []string{
		filepath.Join(dir, "b.yaml") + `:2: flow: id "same" is also used by ` + filepath.Join(dir, "a.yaml"),
		filepath.Join(dir, "c.yaml") + `:3: step a: unknown step type "tsk" (want approval, task, notify, alert, parallel or condition)`,
		filepath.Join(dir, "d.yaml") + `:1: flow: name is required`,
		filepath.Join(dir, "d.yaml") + `:1: flow: steps is required`,
	}, strings.Split(err.Error(), "\n"))

	require.NoError(t, os.Remove(filepath.Join(dir, "b.yaml")))
	require.NoError(t, os.Remove(filepath.Join(dir, "c.yaml")))
	require.NoError(t, os.Remove(filepath.Join(dir, "d.yaml")))
	flows, err = LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, flows, 1)

	empty, err := LoadDir(t.TempDir())
	require.NoError(t, err)
	require.Empty(t, empty)

	_, err = LoadDir(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist, "a mistyped directory is an error, not zero flows")
}
