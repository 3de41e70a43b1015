package flows

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestAccess(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	tests := []struct {
		name, step, field string
		want              Access
	}{
		{name: "start form is editable", step: StartForm, field: "cost", want: AccessEditable},
		{name: "listed editable", step: "review", field: "note", want: AccessEditable},
		{name: "listed hidden", step: "review", field: "cost", want: AccessHidden},
		{name: "unlisted is read-only", step: "review", field: "amount", want: AccessReadOnly},
		{name: "branch step", step: "pick", field: "amount", want: AccessHidden},
		{name: "step without fields", step: "board", field: "cost", want: AccessReadOnly},
		{name: "unknown step shows nothing", step: "nope", field: "amount", want: AccessHidden},
		{name: "unknown field shows nothing", step: StartForm, field: "secret", want: AccessHidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, f.Access(tt.step, tt.field))
		})
	}
}

func TestFormView(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	values, err := f.ValidateForm(validForm())
	require.NoError(t, err)
	delete(values, "note")

	views, err := f.FormView("review", values)
	require.NoError(t, err)
	var keys []string
	for _, v := range views {
		keys = append(keys, v.Field.Key)
	}
	require.Equal(t, []string{"title", "note", "qty", "amount", "due", "level", "urgent", "owner", "file", "items"}, keys, "form order, cost hidden")
	require.Equal(t, FieldView{Field: f.Form[1], Access: AccessEditable}, views[1], "an unset field is shown unset")
	require.Equal(t, FieldView{Field: f.Form[3], Access: AccessReadOnly, Value: values["amount"], Set: true}, views[3])

	_, err = f.FormView("nope", values)
	require.ErrorIs(t, err, ErrUnknownStep)
}

// TestHiddenFieldsNeverShown checks every step of every flow: a field hidden
// from a step is in neither its view nor its values.
func TestHiddenFieldsNeverShown(t *testing.T) {
	t.Parallel()
	flows, err := LoadDir("../configs/flows")
	require.NoError(t, err)
	flows = append(flows, mustFixture(t, "full"))
	hidden := 0
	for _, f := range flows {
		values := map[string]any{"junk": "not a field"}
		for _, fd := range f.Form {
			values[fd.Key] = "x"
		}
		f.walk(func(s *Step) {
			views, err := f.FormView(s.ID, values)
			require.NoError(t, err)
			visible, err := f.VisibleValues(s.ID, values)
			require.NoError(t, err)
			require.NotContains(t, visible, "junk")
			shown := map[string]bool{}
			for _, v := range views {
				shown[v.Field.Key] = true
				require.NotEqual(t, AccessHidden, v.Access)
			}
			for _, fd := range f.Form {
				isHidden := f.Access(s.ID, fd.Key) == AccessHidden
				require.Equal(t, !isHidden, shown[fd.Key], "%s/%s/%s", f.ID, s.ID, fd.Key)
				_, inValues := visible[fd.Key]
				require.Equal(t, !isHidden, inValues, "%s/%s/%s", f.ID, s.ID, fd.Key)
				if isHidden {
					hidden++
				}
			}
		})
	}
	require.Positive(t, hidden, "the flows hide something, so this test can fail")
}

func TestApplyEdits(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	current, err := f.ValidateForm(validForm())
	require.NoError(t, err)

	got, err := f.ApplyEdits("review", current, map[string]any{"note": "checked"})
	require.NoError(t, err)
	require.Equal(t, "checked", got["note"])
	require.Equal(t, current["amount"], got["amount"])
	require.Equal(t, " keep\nlines ", current["note"], "the current form is not modified")

	got, err = f.ApplyEdits("review", current, map[string]any{"note": nil})
	require.NoError(t, err)
	require.NotContains(t, got, "note", "nil clears an optional editable field")

	_, err = f.ApplyEdits("review", current, map[string]any{"amount": "1", "cost": "2", "note": 5, "ghost": 1})
	var fe *FormError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, []FieldProblem{
		{Field: "note", Code: CodeType, Message: "expected text, got a number"},
		{Field: "amount", Code: CodeReadOnly, Message: "this step may not change this field"},
		{Field: "cost", Code: CodeReadOnly, Message: "this step may not change this field"},
		{Field: "ghost", Code: CodeReadOnly, Message: "this step may not change this field"},
	}, unlabelled(fe.Problems))

	got, err = f.ApplyEdits(StartForm, current, map[string]any{"amount": "7.5"})
	require.NoError(t, err, "the applicant may change any field")
	require.True(t, decimal.RequireFromString("7.5").Equal(got["amount"].(decimal.Decimal)))

	_, err = f.ApplyEdits(StartForm, current, map[string]any{"amount": nil})
	require.EqualError(t, err, "invalid form: amount: required")

	_, err = f.ApplyEdits("nope", current, nil)
	require.ErrorIs(t, err, ErrUnknownStep)
}
