package flows

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// validForm is a complete, valid form of the full fixture.
func validForm() map[string]any {
	return map[string]any{
		"title":  "  Order 42 ",
		"note":   " keep\nlines ",
		"qty":    json.Number("12"),
		"amount": "5000.50",
		"cost":   json.Number("1200"),
		"due":    "2025-02-28",
		"level":  "high",
		"urgent": "true",
		"owner":  " u_li ",
		"file":   "https://files.example.com/a.pdf",
		"items": []any{
			map[string]any{"sku": "SKU-1", "price": "10.5", "shipped": "2025-01-02"},
			map[string]any{"sku": "SKU-2", "price": json.Number("0.1")},
		},
	}
}

func TestValidateFormNormalises(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	got, err := f.ValidateForm(validForm())
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"title":  "Order 42",
		"note":   " keep\nlines ", // text keeps its spacing
		"qty":    float64(12),
		"amount": decimal.RequireFromString("5000.50").Round(2),
		"cost":   decimal.RequireFromString("1200").Round(2),
		"due":    "2025-02-28",
		"level":  "high",
		"urgent": true,
		"owner":  "u_li",
		"file":   "https://files.example.com/a.pdf",
		"items": []map[string]any{
			{"sku": "SKU-1", "price": decimal.RequireFromString("10.50").Round(2), "shipped": "2025-01-02"},
			{"sku": "SKU-2", "price": decimal.RequireFromString("0.10").Round(2)},
		},
	}, got)
	require.Equal(t, "5000.50", got["amount"].(decimal.Decimal).StringFixed(2))

	// The normalised form is a fixed point: validating it again changes nothing.
	again, err := f.ValidateForm(got)
	require.NoError(t, err)
	require.Equal(t, got, again)
}

func TestValidateFormReportsEveryField(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	_, err := f.ValidateForm(map[string]any{
		"title":  "this title is far too long for the form",
		"note":   42,
		"qty":    json.Number("0"),
		"cost":   "12.345",
		"due":    "2025-2-30",
		"level":  "medium",
		"urgent": "yes",
		"owner":  7,
		"file":   "ftp://x/y",
		"items": []any{
			map[string]any{"sku": "A", "price": "-1", "colour": "red"},
			map[string]any{"price": "1"},
			"not a row",
		},
		"zeta":  1,
		"alpha": 2,
	})
	var fe *FormError
	require.ErrorAs(t, err, &fe)
	require.True(t, errors.Is(err, ErrInvalidForm))
	require.Equal(t, []FieldProblem{
		{Field: "title", Code: CodeMaxLength, Message: "at most 20 characters, got 39"},
		{Field: "note", Code: CodeType, Message: "expected text, got a number"},
		{Field: "qty", Code: CodeMin, Message: "must be at least 1"},
		{Field: "amount", Code: CodeRequired, Message: "required"},
		{Field: "cost", Code: CodePrecision, Message: "at most 2 decimal places"},
		{Field: "due", Code: CodeFormat, Message: "expected a date like 2025-01-31"},
		{Field: "level", Code: CodeOption, Message: "must be one of low, high"},
		{Field: "urgent", Code: CodeType, Message: "expected true or false, got text"},
		{Field: "owner", Code: CodeType, Message: "expected a user id, got a number"},
		{Field: "file", Code: CodeFormat, Message: "expected an http or https link"},
		{Field: "items[2]", Code: CodeType, Message: "expected a row (an object), got text"},
		{Field: "alpha", Code: CodeUnknown, Message: "not a field of this form"},
		{Field: "zeta", Code: CodeUnknown, Message: "not a field of this form"},
	}, unlabelled(fe.Problems))
	require.Equal(t, "invalid form: title: at most 20 characters, got 39; note: expected text, got a number; "+
		"qty: must be at least 1; amount: required; cost: at most 2 decimal places; due: expected a date like 2025-01-31; "+
		"level: must be one of low, high; urgent: expected true or false, got text; owner: expected a user id, got a number; "+
		"file: expected an http or https link; items[2]: expected a row (an object), got text; "+
		"alpha: not a field of this form; zeta: not a field of this form", err.Error())
	p, ok := fe.Problem("cost")
	require.True(t, ok)
	require.Equal(t, CodePrecision, p.Code)
}

func TestValidateFormTableRows(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	form := validForm()
	form["items"] = []any{
		map[string]any{"sku": "A", "price": "-1", "colour": "red"},
		map[string]any{"price": "1", "shipped": "tomorrow"},
		map[string]any{"sku": "C", "price": "1"},
		map[string]any{"sku": "D", "price": "1"},
	}
	_, err := f.ValidateForm(form)
	var fe *FormError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, []FieldProblem{
		{Field: "items", Code: CodeMaxRows, Message: "at most 3 rows, got 4"},
		{Field: "items[0].price", Code: CodeMin, Message: "must be at least 0"},
		{Field: "items[0].colour", Code: CodeUnknown, Message: "not a field of this form"},
		{Field: "items[1].sku", Code: CodeRequired, Message: "required"},
		{Field: "items[1].shipped", Code: CodeFormat, Message: "expected a date like 2025-01-31"},
	}, unlabelled(fe.Problems))

	form["items"] = "SKU-1 x 2"
	_, err = f.ValidateForm(form)
	require.EqualError(t, err, "invalid form: items: expected a list of rows, got text")
}

func TestValidateFormRequired(t *testing.T) {
	t.Parallel()
	f, err := ParseFlow("req.yaml", []byte(`id: req
name: req
form:
  - {key: s, type: string, required: true}
  - {key: t, type: table, required: true, columns: [{key: x, type: string}]}
  - {key: b, type: bool, required: true}
  - {key: opt, type: money}
steps:
  - {id: a, type: task, assignees: {role: cs}}
`))
	require.NoError(t, err)
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{name: "missing", values: map[string]any{}, want: "invalid form: s: required; t: required; b: required"},
		{name: "blank and empty", values: map[string]any{"s": "   ", "t": []any{}, "b": nil}, want: "invalid form: s: required; t: required; b: required"},
		{name: "false is a value", values: map[string]any{"s": "x", "t": []any{map[string]any{}}, "b": false}},
		{name: "optional blank is left out", values: map[string]any{"s": "x", "t": []any{map[string]any{"x": "1"}}, "b": true, "opt": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.ValidateForm(tt.values)
			if tt.want != "" {
				require.EqualError(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			require.NotContains(t, got, "opt")
		})
	}
}

func TestValidateFormMoney(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full") // amount: min 0, max 100000.50
	tests := []struct {
		name  string
		value any
		want  string // StringFixed(2) of the result, or the problem code
	}{
		{name: "text", value: "5000.50", want: "5000.50"},
		{name: "text trimmed", value: " 12.3 ", want: "12.30"},
		{name: "trailing zeros beyond fen", value: "5000.500", want: "5000.50"},
		{name: "json number", value: json.Number("5000.01"), want: "5000.01"},
		{name: "json whole number", value: json.Number("5000"), want: "5000.00"},
		{name: "int", value: 7, want: "7.00"},
		{name: "float with one place", value: 0.1, want: "0.10"},
		{name: "float with two places", value: 5000.01, want: "5000.01"},
		{name: "float sum noise", value: floatSum(0.1, 0.2), want: CodePrecision},
		{name: "float three places", value: 5000.505, want: CodePrecision},
		{name: "text three places", value: "5000.505", want: CodePrecision},
		{name: "json three places", value: json.Number("0.001"), want: CodePrecision},
		{name: "NaN", value: math.NaN(), want: CodeType},
		{name: "infinity", value: math.Inf(1), want: CodeType},
		{name: "exponent", value: "1e3", want: CodeFormat},
		{name: "json exponent", value: json.Number("1e2"), want: CodeFormat},
		{name: "thousands grouped, as a card shows money", value: "5,000", want: "5000.00"},
		{name: "yuan sign and grouping", value: "¥60,000.50", want: "60000.50"},
		{name: "full-width yuan sign", value: "￥ 5000", want: "5000.00"},
		{name: "badly grouped", value: "50,00", want: CodeFormat},
		{name: "a comma for a decimal point", value: "5000,50", want: CodeFormat},
		{name: "another currency", value: "$5000", want: CodeFormat},
		{name: "bool", value: true, want: CodeType},
		{name: "below min", value: "-0.01", want: CodeMin},
		{name: "at max", value: "100000.50", want: "100000.50"},
		{name: "above max by a fen", value: "100000.51", want: CodeMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := validForm()
			form["amount"] = tt.value
			got, err := f.ValidateForm(form)
			var fe *FormError
			if errors.As(err, &fe) {
				require.Len(t, fe.Problems, 1, err.Error())
				require.Equal(t, "amount", fe.Problems[0].Field)
				require.Equal(t, tt.want, fe.Problems[0].Code)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got["amount"].(decimal.Decimal).StringFixed(2))
		})
	}
}

func TestValidateFormNumber(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full") // qty: min 1, max 1000
	tests := []struct {
		name  string
		value any
		want  any // float64 result or a problem code
	}{
		{name: "json", value: json.Number("2.5"), want: 2.5},
		{name: "text", value: " 3 ", want: 3.0},
		{name: "int", value: 1000, want: 1000.0},
		{name: "float", value: 1.5, want: 1.5},
		{name: "NaN text", value: "NaN", want: CodeFormat},
		{name: "NaN float", value: math.NaN(), want: CodeType},
		{name: "words", value: "three", want: CodeFormat},
		{name: "below min", value: 0.99, want: CodeMin},
		{name: "above max", value: json.Number("1000.01"), want: CodeMax},
		{name: "list", value: []any{1}, want: CodeType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := validForm()
			form["qty"] = tt.value
			got, err := f.ValidateForm(form)
			if code, ok := tt.want.(string); ok {
				var fe *FormError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, []string{"qty", code}, []string{fe.Problems[0].Field, fe.Problems[0].Code})
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got["qty"])
		})
	}
}

func TestValidateFormText(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full") // title: max_length 20, pattern [A-Za-z0-9 ]+
	tests := []struct {
		name  string
		value string
		code  string
	}{
		{name: "fits", value: "Order 1"},
		{name: "exactly max length", value: "abcdefghijabcdefghij"},
		{name: "one over", value: "abcdefghijabcdefghijk", code: CodeMaxLength},
		{name: "pattern is anchored", value: "ok!", code: CodePattern},
		{name: "characters not bytes", value: "订单", code: CodePattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := validForm()
			form["title"] = tt.value
			_, err := f.ValidateForm(form)
			if tt.code == "" {
				require.NoError(t, err)
				return
			}
			var fe *FormError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.code, fe.Problems[0].Code)
		})
	}
	g, err := ParseFlow("len.yaml", []byte("id: len\nname: len\nform: [{key: s, type: string, max_length: 2}]\nsteps: [{id: a, type: task, assignees: {role: cs}}]\n"))
	require.NoError(t, err)
	_, err = g.ValidateForm(map[string]any{"s": "订单"})
	require.NoError(t, err, "max_length counts characters, not bytes")
}

func TestValidateFormJSON(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "design_sketch")
	tests := []struct {
		name string
		raw  string
		want string // amount as StringFixed(2), or the error
	}{
		{name: "number stays exact", raw: `{"order_no": "A1", "amount": 5000.01}`, want: "5000.01"},
		{name: "big amount", raw: `{"order_no": "A1", "amount": 12345678901234567.89}`, want: "12345678901234567.89"},
		{name: "text amount", raw: `{"order_no": "A1", "amount": "0.1"}`, want: "0.10"},
		{name: "not an object", raw: `[1]`, want: "invalid form: : expected a JSON object: json: cannot unmarshal array into Go value of type map[string]interface {}"},
		{name: "trailing data", raw: `{"order_no": "A1"} {}`, want: "invalid form: : expected one JSON object, got more data after it"},
		{name: "bad field", raw: `{"order_no": "A1", "amount": 1.005}`, want: "invalid form: amount: at most 2 decimal places"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.ValidateFormJSON([]byte(tt.raw))
			if err != nil {
				require.EqualError(t, err, tt.want)
				require.ErrorIs(t, err, ErrInvalidForm)
				return
			}
			require.Equal(t, tt.want, got["amount"].(decimal.Decimal).StringFixed(2))
		})
	}
}

func TestValidateResult(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	got, err := f.ValidateResult("pick", map[string]any{"ok": true, "weight": json.Number("1.5")})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"ok": true, "weight": 1.5}, got)

	_, err = f.ValidateResult("pick", map[string]any{"weight": "heavy"})
	require.EqualError(t, err, "invalid form: ok: required; weight: expected a number like 12 or 3.5")

	got, err = f.ValidateResult("buy", nil)
	require.NoError(t, err, "a task without result form completes with no result")
	require.Empty(t, got)
	_, err = f.ValidateResult("buy", map[string]any{"x": 1})
	require.EqualError(t, err, "invalid form: x: not a field of this form")

	_, err = f.ValidateResult("nope", nil)
	require.ErrorIs(t, err, ErrUnknownStep)
}

// floatSum adds at run time; a constant expression would be exact.
func floatSum(a, b float64) float64 { return a + b }

// TestProblemsCarryLabels: each problem names the field as people know it:
// its label, a table cell's column label, none for a key of no field.
func TestProblemsCarryLabels(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	_, err := f.ValidateForm(map[string]any{"items": []any{map[string]any{"price": "1.00"}}, "bogus": 1})
	fe, ok := errors.AsType[*FormError](err)
	require.True(t, ok, "%v", err)
	labels := map[string]string{}
	for _, p := range fe.Problems {
		labels[p.Field] = p.Label
	}
	require.Equal(t, "sku", labels["items[0].sku"], "a column without a label goes by its key")
	_, err = f.ValidateForm(map[string]any{"qty": json.Number("0"), "title": strings.Repeat("长", 21)})
	fe, ok = errors.AsType[*FormError](err)
	require.True(t, ok, "%v", err)
	qty, _ := fe.Problem("qty")
	require.Equal(t, "1", qty.Limit, "the bound it broke")
	title, _ := fe.Problem("title")
	require.Equal(t, "20", title.Limit)
	require.Contains(t, labels, "bogus")
	require.Empty(t, labels["bogus"])
	for field, label := range labels {
		if field != "bogus" && field != "items[0].sku" {
			require.NotEmpty(t, label, field)
		}
	}
}

// unlabelled returns problems without their labels and limits, for the
// tests of codes and messages (TestProblemsCarryLabels checks the rest).
func unlabelled(problems []FieldProblem) []FieldProblem {
	out := slices.Clone(problems)
	for i := range out {
		out[i].Label, out[i].Limit = "", ""
	}
	return out
}

// TestDatesAsPeopleWriteThem: a date may come as 2025-01-31 or as
// 2025/1/31, and is kept as the former; other writings are refused.
func TestDatesAsPeopleWriteThem(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	for in, want := range map[string]string{"2025-01-31": "2025-01-31", "2025/1/31": "2025-01-31", " 2025/12/05 ": "2025-12-05",
		"2025/2/30": "", "31/01/2025": "", "2025.01.31": ""} {
		form := validForm()
		form["due"] = in
		got, err := f.ValidateForm(form)
		if want == "" {
			require.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		require.Equal(t, want, got["due"], in)
	}
}
