package flows

import (
	"fmt"
	"maps"
	"slices"
)

// FieldView is one field as a step sees it: its definition, what the step
// may do with it and its current value (Set is false when it has none).
type FieldView struct {
	Field  *Field
	Access Access
	Value  any
	Set    bool
}

// Access returns what stepID may do with the form field key. At StartForm
// every field is editable; at a step, a field is read-only unless the
// step's fields: lists it otherwise. Unknown steps and fields are hidden,
// so a mistake never shows data.
func (f *Flow) Access(stepID, key string) Access {
	if f.fields[key] == nil {
		return AccessHidden
	}
	if stepID == StartForm {
		return AccessEditable
	}
	pl := f.index[stepID]
	if pl == nil {
		return AccessHidden
	}
	if a, ok := pl.step.Fields[key]; ok {
		return a
	}
	return AccessReadOnly
}

// FormView returns the form as stepID may see it, in form order, without
// its hidden fields: build a step's card or API answer from this, never
// from the raw form, and a hidden field cannot leak.
func (f *Flow) FormView(stepID string, values map[string]any) ([]FieldView, error) {
	if err := f.checkStep(stepID, "form view"); err != nil {
		return nil, err
	}
	views := make([]FieldView, 0, len(f.Form))
	for _, fd := range f.Form {
		a := f.Access(stepID, fd.Key)
		if a == AccessHidden {
			continue
		}
		v, set := values[fd.Key]
		views = append(views, FieldView{Field: fd, Access: a, Value: v, Set: set})
	}
	return views, nil
}

// VisibleValues returns a copy of values without the fields hidden from
// stepID, and without keys that are not form fields.
func (f *Flow) VisibleValues(stepID string, values map[string]any) (map[string]any, error) {
	if err := f.checkStep(stepID, "visible values"); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(values))
	for k, v := range values {
		if f.Access(stepID, k) != AccessHidden {
			out[k] = v
		}
	}
	return out, nil
}

// ApplyEdits merges edits made at stepID into the current form and
// validates the result. An edit of a field the step may not edit (read-only,
// hidden or unknown) is a CodeReadOnly problem; the error is a *FormError
// listing every problem. A nil edit value clears an optional field.
func (f *Flow) ApplyEdits(stepID string, current, edits map[string]any) (map[string]any, error) {
	if err := f.checkStep(stepID, "apply edits"); err != nil {
		return nil, err
	}
	var denied formProblems
	merged := maps.Clone(current)
	if merged == nil {
		merged = map[string]any{}
	}
	for _, k := range slices.Sorted(maps.Keys(edits)) {
		if f.Access(stepID, k) != AccessEditable {
			denied.add(k, CodeReadOnly, "this step may not change this field")
			continue
		}
		if edits[k] == nil {
			delete(merged, k)
			continue
		}
		merged[k] = edits[k]
	}
	var fp formProblems
	out := checkValues(f.Form, merged, "", &fp)
	fp.list = append(fp.list, denied.list...)
	if err := fp.err(f.Form); err != nil {
		return nil, err
	}
	if err := f.checkRules(out, &fp); err != nil {
		return nil, err
	}
	if err := fp.err(f.Form); err != nil {
		return nil, err
	}
	return out, nil
}

func (f *Flow) checkStep(stepID, op string) error {
	if stepID != StartForm && f.index[stepID] == nil {
		return fmt.Errorf("flow %s: %s: %w %q", f.ID, op, ErrUnknownStep, stepID)
	}
	return nil
}
