package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// ErrInvalidForm is what a *FormError matches with errors.Is.
var ErrInvalidForm = errors.New("invalid form")

// Codes of FieldProblem, stable for API clients and translations.
const (
	CodeRequired  = "required"   // missing, blank or an empty table
	CodeUnknown   = "unknown"    // not a field of this form
	CodeType      = "type"       // a value of the wrong kind
	CodeFormat    = "format"     // a string that does not parse (date, amount, link)
	CodePrecision = "precision"  // money finer than MoneyPlaces
	CodeMin       = "min"        // below Field.Min
	CodeMax       = "max"        // above Field.Max
	CodeMaxLength = "max_length" // longer than Field.MaxLength
	CodePattern   = "pattern"    // does not match Field.Pattern
	CodeOption    = "option"     // not one of an enum's options
	CodeMaxRows   = "max_rows"   // more rows than Field.MaxRows
	CodeReadOnly  = "read_only"  // an edit of a field the step may not change
	CodeRule      = "rule"       // the form breaks a rule of its flow (FormRule)
)

// FieldProblem is what is wrong with one field. Field is the field's path:
// its key, or "table[row].column" for a table cell (rows count from 0).
type FieldProblem struct {
	Field string `json:"field"`
	// Label is what people know the field by: its label, a table cell's
	// column label; empty for a key that is no field.
	Label string `json:"label,omitempty"`
	// LabelEN is the label English readers see, when the form file has one.
	LabelEN string `json:"label_en,omitempty"`
	Code    string `json:"code"`
	// Limit is the bound a value broke, as the form file wrote it (the min
	// or max, the most characters or rows), or the field's help for a
	// pattern it does not match; empty otherwise.
	Limit string `json:"limit,omitempty"`
	// Says is, for a broken rule (CodeRule), the rule's own message as the
	// flow file writes it; SaysEN its English one, when the file has one.
	Says    string `json:"says,omitempty"`
	SaysEN  string `json:"says_en,omitempty"`
	Message string `json:"message"`
}

// FormError lists every invalid field of a submitted form, in the form's
// field order (rows in order, unknown keys last, sorted), so a card or API
// client can mark them all at once.
type FormError struct {
	Problems []FieldProblem
}

// Error returns "invalid form: key: message; key: message".
func (e *FormError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return ErrInvalidForm.Error() + ": " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalidForm) true.
func (e *FormError) Is(target error) bool { return target == ErrInvalidForm }

// Problem returns the problem of one field path, if any; handy in tests
// and when rendering one field's error.
func (e *FormError) Problem(field string) (FieldProblem, bool) {
	for _, p := range e.Problems {
		if p.Field == field {
			return p, true
		}
	}
	return FieldProblem{}, false
}

// formProblems collects field problems while a form is checked.
type formProblems struct{ list []FieldProblem }

func (fp *formProblems) add(path, code, format string, args ...any) {
	fp.list = append(fp.list, FieldProblem{Field: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

// err returns the problems found, each labelled from fields.
func (fp *formProblems) err(fields []*Field) error {
	if len(fp.list) == 0 {
		return nil
	}
	for i, p := range fp.list {
		if f := fieldAt(fields, p.Field); f != nil {
			fp.list[i].Label, fp.list[i].LabelEN, fp.list[i].Limit = f.Label, f.LabelEN, f.limit(p.Code)
		}
	}
	return &FormError{Problems: fp.list}
}

// fieldAt is the field at path ("key", or "table[row].column" for the
// column, the table for a row), nil when there is none.
func fieldAt(fields []*Field, path string) *Field {
	key, rest, cell := strings.Cut(path, "[")
	for _, f := range fields {
		if f.Key != key {
			continue
		}
		if !cell {
			return f
		}
		if _, col, ok := strings.Cut(rest, "]."); ok {
			if c := fieldAt(f.Columns, col); c != nil {
				return c
			}
		}
		return f
	}
	return nil
}

// limit is the bound of f a problem of code broke, for people.
func (f *Field) limit(code string) string {
	switch {
	case code == CodeMin && f.Min != nil:
		return f.Min.String()
	case code == CodeMax && f.Max != nil:
		return f.Max.String()
	case code == CodeMaxLength && f.MaxLength > 0:
		return strconv.Itoa(f.MaxLength)
	case code == CodeMaxRows && f.MaxRows > 0:
		return strconv.Itoa(f.MaxRows)
	case code == CodePattern:
		return f.Help
	}
	return ""
}

// ValidateForm checks an applicant's form against the flow's fields and
// returns it normalised (see FieldType for each type's Go value); optional
// fields left empty are absent from the result. The error is a *FormError
// naming every bad field, and the map is nil then. values may come from JSON decoded with UseNumber
// (see ValidateFormJSON) or be built in Go.
func (f *Flow) ValidateForm(values map[string]any) (map[string]any, error) {
	var fp formProblems
	out := checkValues(f.Form, values, "", &fp)
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

// ValidateFormJSON decodes a JSON object with exact numbers and validates
// it like ValidateForm; a body that is not a JSON object is a *FormError
// too, with an empty field path.
func (f *Flow) ValidateFormJSON(raw []byte) (map[string]any, error) {
	values, err := decodeObject(raw)
	if err != nil {
		return nil, &FormError{Problems: []FieldProblem{{Code: CodeType, Message: err.Error()}}}
	}
	return f.ValidateForm(values)
}

// ValidateResult checks the result form a task step's assignee submits on
// completion, like ValidateForm. A step without a result form accepts only
// an empty result.
func (f *Flow) ValidateResult(stepID string, values map[string]any) (map[string]any, error) {
	pl := f.index[stepID]
	if pl == nil {
		return nil, fmt.Errorf("flow %s: validate result: %w %q", f.ID, ErrUnknownStep, stepID)
	}
	var fp formProblems
	out := checkValues(pl.step.ResultForm, values, "", &fp)
	if err := fp.err(pl.step.ResultForm); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeObject decodes a JSON object keeping numbers as json.Number, so
// money never passes through float64.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var values map[string]any
	if err := dec.Decode(&values); err != nil {
		return nil, fmt.Errorf("expected a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("expected one JSON object, got more data after it")
	}
	return values, nil
}

// checkValues validates values against fields; prefix is the path of the
// enclosing table row ("items[2].") or "".
func checkValues(fields []*Field, values map[string]any, prefix string, fp *formProblems) map[string]any {
	out := make(map[string]any, len(values))
	for _, fd := range fields {
		path := prefix + fd.Key
		v, ok := values[fd.Key]
		if !ok || v == nil || isBlank(fd, v) {
			if fd.Required {
				fp.add(path, CodeRequired, "required")
			}
			continue
		}
		if nv, ok := checkValue(fd, v, path, fp); ok {
			out[fd.Key] = nv
		}
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !slices.ContainsFunc(fields, func(fd *Field) bool { return fd.Key == k }) {
			fp.add(prefix+k, CodeUnknown, "not a field of this form")
		}
	}
	return out
}

// isBlank reports values that count as not filled in: blank strings and
// empty tables.
func isBlank(fd *Field, v any) bool {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return fd.Type == FieldTable && len(x) == 0
	case []map[string]any:
		return fd.Type == FieldTable && len(x) == 0
	}
	return false
}

// checkValue validates and normalises one present, non-blank value.
func checkValue(fd *Field, v any, path string, fp *formProblems) (any, bool) {
	if fd.Type == FieldTable {
		return checkTable(fd, v, path, fp)
	}
	nv, code, msg := normalise(fd, v)
	if code != "" {
		fp.add(path, code, "%s", msg)
		return nil, false
	}
	return nv, true
}

// checkTable validates every row of a table.
func checkTable(fd *Field, v any, path string, fp *formProblems) (any, bool) {
	var rows []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		rows = x
	case []any:
		for i, r := range x {
			row, ok := r.(map[string]any)
			if !ok {
				fp.add(fmt.Sprintf("%s[%d]", path, i), CodeType, "expected a row (an object), got %s", describe(r))
				return nil, false
			}
			rows = append(rows, row)
		}
	default:
		fp.add(path, CodeType, "expected a list of rows, got %s", describe(v))
		return nil, false
	}
	if fd.MaxRows > 0 && len(rows) > fd.MaxRows {
		fp.add(path, CodeMaxRows, "at most %d rows, got %d", fd.MaxRows, len(rows))
	}
	before := len(fp.list)
	out := make([]map[string]any, len(rows))
	for i, row := range rows {
		out[i] = checkValues(fd.Columns, row, fmt.Sprintf("%s[%d].", path, i), fp)
	}
	return out, len(fp.list) == before
}

// storable returns values as they are stored and shown: money (a
// decimal.Decimal after validation) becomes text with exactly MoneyPlaces
// decimals, so "6800.00" stays "6800.00" rather than "6800", also inside
// table rows. Other values are returned as they are; values is not changed.
func storable(values map[string]any) map[string]any {
	if values == nil {
		return nil
	}
	out := make(map[string]any, len(values))
	for k, v := range values {
		out[k] = storableValue(v)
	}
	return out
}

func storableValue(v any) any {
	switch x := v.(type) {
	case decimal.Decimal:
		return x.StringFixed(MoneyPlaces)
	case map[string]any:
		return storable(x)
	case []map[string]any:
		rows := make([]map[string]any, len(x))
		for i, row := range x {
			rows[i] = storable(row)
		}
		return rows
	case []any:
		items := make([]any, len(x))
		for i, item := range x {
			items[i] = storableValue(item)
		}
		return items
	}
	return v
}

// describe names a value's kind for messages without echoing long input.
func describe(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case bool:
		return "true/false"
	case json.Number, float64, float32, int, int64, int32:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}
