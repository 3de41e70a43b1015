package flows

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// condFlow builds a flow whose only condition is expr, over the full
// fixture's form and result forms.
func condFlow(t *testing.T, expr string) (*Flow, *Cond) {
	t.Helper()
	src := `id: cond
name: cond
form:
  - {key: amount, type: money}
  - {key: cost, type: money}
  - {key: qty, type: number}
  - {key: due, type: date}
  - {key: urgent, type: bool}
  - {key: level, type: enum, options: [low, high]}
  - key: items
    type: table
    columns: [{key: sku, type: string}, {key: price, type: money}]
steps:
  - id: pick
    type: task
    assignees: {role: warehouse}
    result_form: [{key: ok, type: bool}, {key: weight, type: number}]
  - id: gate
    type: approval
    assignees: {role: gm}
    when: '` + expr + `'
`
	f, err := ParseFlow("cond.yaml", []byte(src))
	require.NoError(t, err)
	return f, f.Step("gate").When
}

func TestEvalMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expr   string
		amount any
		ctx    map[string]any
		want   bool
	}{
		{name: "5000.00 is not above 5000", expr: "form.amount > 5000", amount: "5000.00", want: false},
		{name: "5000.01 is above 5000", expr: "form.amount > 5000", amount: "5000.01", want: true},
		{name: "json number", expr: "form.amount > 5000", amount: json.Number("5000.01"), want: true},
		{name: "normalised decimal", expr: "form.amount > 5000", amount: decimal.RequireFromString("5000.01"), want: true},
		{name: "at least, equal", expr: "form.amount >= 5000", amount: "5000", want: true},
		{name: "float literal is exact", expr: "form.amount >= 5000.01", amount: "5000.01", want: true},
		{name: "float literal, a fen less", expr: "form.amount >= 5000.01", amount: "5000.00", want: false},
		{name: "one tenth", expr: "form.amount == 0.1", amount: "0.10", want: true},
		{name: "equal ignores scale", expr: "form.amount == 5000", amount: "5000.00", want: true},
		{name: "not equal", expr: "form.amount != 5000", amount: "5000.01", want: true},
		{name: "integer on the left", expr: "5000 < form.amount", amount: "5000.01", want: true},
		{name: "float on the left", expr: "4999.99 >= form.amount", amount: "5000", want: false},
		{name: "money with money", expr: "form.cost < form.amount", amount: "10.01", want: true},
		{name: "sum", expr: "form.amount + form.cost > 15", amount: "5.01", want: true},
		{name: "difference", expr: "form.amount - 0.01 == 5000", amount: "5000.01", want: true},
		{name: "product", expr: "form.amount * 2 > 10000", amount: "5000.01", want: true},
		{name: "quotient", expr: "form.amount / 3 == 1", amount: "3", want: true},
		{name: "context number", expr: "form.amount > context.limit", amount: "100.01", ctx: map[string]any{"limit": 100.0}, want: true},
		{name: "context json number", expr: "form.amount > context.limit", amount: "100.00", ctx: map[string]any{"limit": json.Number("100")}, want: false},
		{name: "context text", expr: "context.limit < form.amount", amount: "100.01", ctx: map[string]any{"limit": "100"}, want: true},
		{name: "rows", expr: "any(form.items, .price > 100)", amount: "1", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := condFlow(t, tt.expr)
			got, err := f.Eval(c, Env{
				Form: map[string]any{
					"amount": tt.amount, "cost": "10",
					"items": []any{map[string]any{"sku": "a", "price": "100.00"}, map[string]any{"sku": "b", "price": "100.01"}},
				},
				Context: tt.ctx,
			})
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr string
		env  Env
		want string
	}{
		{name: "context holds words", expr: "form.amount > context.limit",
			env:  Env{Form: map[string]any{"amount": "1"}, Context: map[string]any{"limit": "lots"}},
			want: `flow cond: eval "form.amount > context.limit" (line 21): money >: cannot compare money with text "lots" (1:13)` + "\n | form.amount > context.limit\n | ............^"},
		{name: "division by zero", expr: "form.amount / 0 > 1", env: Env{Form: map[string]any{"amount": "1"}},
			want: `flow cond: eval "form.amount / 0 > 1" (line 21): money /: division by zero (1:13)` + "\n | form.amount / 0 > 1\n | ............^"},
		{name: "form value does not fit its type", expr: "form.amount > 1", env: Env{Form: map[string]any{"amount": "1.001"}},
			want: `flow cond: eval "form.amount > 1": form.amount: at most 2 decimal places`},
		{name: "bad table cell", expr: "len(form.items) > 0", env: Env{Form: map[string]any{"items": []any{map[string]any{"price": "x"}}}},
			want: `flow cond: eval "len(form.items) > 0": invalid form: form.items[0].price: expected an amount like 5000.50`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := condFlow(t, tt.expr)
			_, err := f.Eval(c, tt.env)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestEvalEnv(t *testing.T) {
	t.Parallel()
	env := Env{
		Form: map[string]any{
			"amount": "1", "qty": json.Number("3"), "due": "2025-06-30", "urgent": true, "level": "high",
		},
		Applicant: Applicant{ID: "u_li", Department: "sales", Roles: []string{"vip", "sales"}},
		Context:   map[string]any{"platform": "tmall", "retries": 2.0},
		Results:   map[string]map[string]any{"pick": {"ok": true, "weight": json.Number("2.5")}},
	}
	tests := []struct {
		name string
		expr string
		want bool
	}{
		{name: "number", expr: "form.qty * 2 == 6", want: true},
		{name: "date before", expr: `form.due < date("2025-07-01")`, want: true},
		{name: "date equal", expr: `form.due == date("2025-06-30")`, want: true},
		{name: "bool", expr: "form.urgent && form.level == \"high\"", want: true},
		{name: "applicant role", expr: `"vip" in applicant.roles`, want: true},
		{name: "applicant department", expr: `applicant.department == "finance"`, want: false},
		{name: "applicant id", expr: `applicant.id == "u_li"`, want: true},
		{name: "context", expr: `context.platform == "tmall" && context.retries < 3`, want: true},
		{name: "missing context", expr: `context.shop == nil`, want: true},
		{name: "result", expr: "results.pick.ok && results.pick.weight > 2", want: true},
		{name: "missing table is empty", expr: "len(form.items) == 0", want: true},
		{name: "missing money is zero", expr: "form.cost == 0", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := condFlow(t, tt.expr)
			got, err := f.Eval(c, env)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEvalMissingResultsAreZero(t *testing.T) {
	t.Parallel()
	f, c := condFlow(t, "not results.pick.ok && results.pick.weight == 0")
	got, err := f.Eval(c, Env{})
	require.NoError(t, err)
	require.True(t, got, "a step that has not completed reads as its zero values")
}

func TestEvalNilAndForeign(t *testing.T) {
	t.Parallel()
	f, _ := condFlow(t, "form.amount > 1")
	ok, err := f.Eval(nil, Env{})
	require.NoError(t, err)
	require.True(t, ok, "a step without when runs")

	other, c := condFlow(t, "form.amount > 1")
	require.NotSame(t, f, other)
	_, err = f.Eval(c, Env{})
	require.ErrorIs(t, err, ErrForeignCond)
	_, err = f.Eval(&Cond{Source: "true"}, Env{})
	require.ErrorIs(t, err, ErrForeignCond, "an uncompiled condition is refused")
}

func TestEvalConcurrent(t *testing.T) {
	t.Parallel()
	f, c := condFlow(t, "form.amount > 5000 && len(form.items) == 1")
	var wg sync.WaitGroup
	results := make([]bool, 32)
	errs := make([]error, 32)
	for i := range results {
		wg.Go(func() {
			amount := "5000.00"
			if i%2 == 1 {
				amount = "5000.01"
			}
			results[i], errs[i] = f.Eval(c, Env{Form: map[string]any{"amount": amount, "items": []any{map[string]any{"sku": "x"}}}})
		})
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i])
		require.Equal(t, i%2 == 1, results[i])
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	tests := []struct {
		name string
		step string
		env  Env
		want string
	}{
		{name: "first true branch wins", step: "route", env: Env{Form: map[string]any{"amount": "6000"}, Applicant: Applicant{Roles: []string{"vip"}}}, want: "board"},
		{name: "second branch", step: "route", env: Env{Form: map[string]any{"amount": "6000"}}, want: "finance"},
		{name: "default", step: "route", env: Env{Form: map[string]any{"amount": "5000.00"}}, want: "prep"},
		{name: "loop back in a branch", step: "recheck", env: Env{Results: map[string]map[string]any{"pick": {"ok": false}}}, want: "pick"},
		{name: "branch end", step: "recheck", env: Env{Results: map[string]map[string]any{"pick": {"ok": true}}}, want: End},
		{name: "not a condition", step: "board", want: "prep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.Route(f.Step(tt.step), tt.env)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	_, err := f.Route(f.Step("route"), Env{Form: map[string]any{"amount": "x"}})
	require.ErrorContains(t, err, "step route: flow full: eval")
}
