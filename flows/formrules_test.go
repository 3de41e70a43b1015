package flows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFormRules: a flow's rules refuse a form whose fields disagree with
// each other, in the rule's own words at its field; a rule whose fields are
// not all set is not checked; edits are held to the rules too.
func TestFormRules(t *testing.T) {
	t.Parallel()
	f, err := ParseFlow("trip.yaml", []byte(`
id: trip
name: 出差
form:
  - {key: starts_on, label: 出发, type: date, required: true}
  - {key: ends_on, label: 返回, label_en: Back on, type: date}
  - {key: budget, label: 预算, type: money}
  - {key: spent, label: 已花费, type: money}
rules:
  - {check: form.ends_on >= form.starts_on, field: ends_on, message: 返回日期不能早于出发日期, message_en: Back before leaving}
  - {check: form.spent <= form.budget, field: spent, message: 花费超出预算}
steps:
  - {id: ok, type: approval, assignees: {role: boss}, fields: {ends_on: editable}}
`))
	require.NoError(t, err)

	_, err = f.ValidateForm(map[string]any{"starts_on": "2026-12-10", "ends_on": "2026-12-09", "budget": "100.00", "spent": "100.01"})
	fe, ok := err.(*FormError)
	require.True(t, ok, "%v", err)
	require.Equal(t, []FieldProblem{
		{Field: "ends_on", Label: "返回", LabelEN: "Back on", Code: CodeRule, Says: "返回日期不能早于出发日期", SaysEN: "Back before leaving", Message: "Back before leaving"},
		{Field: "spent", Label: "已花费", Code: CodeRule, Says: "花费超出预算", Message: "花费超出预算"},
	}, fe.Problems)

	for _, ok := range []map[string]any{
		{"starts_on": "2026-12-10", "ends_on": "2026-12-10", "budget": "100.00", "spent": "100.00"},
		{"starts_on": "2026-12-10"}, // nothing to compare: each rule's fields are not all set
		{"starts_on": "2026-12-10", "spent": "5.00"},
	} {
		_, err := f.ValidateForm(ok)
		require.NoError(t, err, "%v", ok)
	}

	_, err = f.ValidateForm(map[string]any{"ends_on": "2026-12-09"})
	fe, _ = err.(*FormError)
	require.NotNil(t, fe)
	require.Equal(t, CodeRequired, fe.Problems[0].Code, "a field's own check comes first")
	require.Len(t, fe.Problems, 1)

	current := map[string]any{"starts_on": "2026-12-10", "ends_on": "2026-12-12"}
	_, err = f.ApplyEdits("ok", current, map[string]any{"ends_on": "2026-12-01"})
	require.ErrorAs(t, err, &fe)
	require.Equal(t, CodeRule, fe.Problems[0].Code, "an edit breaking a rule is refused")
	_, err = f.ApplyEdits("ok", current, map[string]any{"ends_on": "2026-12-11"})
	require.NoError(t, err)
}

// TestBadFormRules: a rule is checked when its flow is read.
func TestBadFormRules(t *testing.T) {
	t.Parallel()
	head := `
id: trip
name: 出差
form:
  - {key: starts_on, type: date}
  - {key: ends_on, type: date}
steps:
  - {id: ok, type: approval, assignees: {role: boss}}
rules:
`
	for _, tc := range []struct{ name, rule, want string }{
		{"unknown field", `  - {check: form.ends_on >= form.starts_on, field: nope, message: x}`, "rules #1: field: nope is not a field of the form"},
		{"no message", `  - {check: form.ends_on >= form.starts_on, field: ends_on}`, "rules #1: message is required"},
		{"the applicant", `  - {check: applicant.id != "", field: ends_on, message: x}`, "rules #1: check (the form only)"},
		{"not a bool", `  - {check: form.ends_on, field: ends_on, message: x}`, "rules #1: check (the form only)"},
		{"unknown key", `  - {check: "true", field: ends_on, message: x, when: y}`, `rules #1: unknown key "when"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFlow("trip.yaml", []byte(head+tc.rule+"\n"))
			require.ErrorContains(t, err, tc.want)
		})
	}
}
