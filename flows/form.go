package flows

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// FieldType is the type of a form field's value.
type FieldType string

// Form field types. The comment says what ValidateForm accepts and the Go
// type it normalises the value to.
const (
	FieldString FieldType = "string" // one line of text → string (trimmed)
	FieldText   FieldType = "text"   // several lines of text → string
	// FieldNumber is a JSON number or numeric string → float64.
	FieldNumber FieldType = "number"
	// FieldMoney is an exact amount with at most 2 decimal places, as a
	// string "5000.50" or a JSON number → decimal.Decimal (never float).
	FieldMoney FieldType = "money"
	FieldDate  FieldType = "date" // "YYYY-MM-DD" → string
	FieldEnum  FieldType = "enum" // one of Options → string
	FieldBool  FieldType = "bool" // true/false → bool
	// FieldUser is a user id of the org directory → string.
	FieldUser FieldType = "user"
	// FieldAttachment is an http(s) link to a file → string.
	FieldAttachment FieldType = "attachment"
	// FieldTable is a list of rows of typed columns → []map[string]any.
	FieldTable FieldType = "table"
)

var fieldTypes = []FieldType{FieldString, FieldText, FieldNumber, FieldMoney, FieldDate,
	FieldEnum, FieldBool, FieldUser, FieldAttachment, FieldTable}

// MoneyPlaces is how many decimal places a money value may have (fen/cents).
const MoneyPlaces = 2

// Field is one typed field of a form, a result form or a table's columns.
type Field struct {
	Key   string
	Label string // shown on cards; the Key when the file gives none
	// LabelEN is the label English readers see (label_en); Label without it.
	LabelEN string
	Help    string // hint shown under the field
	Type    FieldType
	// Required rejects a missing value, a blank string and an empty table.
	Required bool
	// Min and Max bound number and money values (inclusive); nil = open.
	Min, Max *decimal.Decimal
	// MaxLength bounds string and text values, in characters; 0 = none.
	MaxLength int
	// Pattern is a regular expression a string value must match as a
	// whole; PatternSource is how the file wrote it.
	Pattern       *regexp.Regexp
	PatternSource string
	// Options are an enum's allowed values, in display order;
	// OptionLabels what people read for some of them (天猫 for tmall).
	Options      []string
	OptionLabels map[string]string
	// OptionLabelsEN are what English readers read (option_labels_en);
	// an option without one reads as itself.
	OptionLabelsEN map[string]string
	// Columns are a table's typed columns; MaxRows bounds its rows (0 = none).
	Columns []*Field
	MaxRows int
	Line    int
}

// fieldKey is what keys of fields, steps and flows look like: expressions
// reach them as form.<key>, so they must be identifiers.
var fieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// fields reads a list of field definitions. Columns of a table cannot be
// tables themselves.
func (ps *parser) fields(nodes []*yaml.Node, subject string, nested bool) []*Field {
	var out []*Field
	seen := map[string]int{}
	for _, n := range nodes {
		f := ps.field(n, subject, nested)
		if f == nil {
			continue
		}
		if first, dup := seen[f.Key]; dup {
			ps.p.atLine(f.Line, "%s %s: duplicate key (first at line %d)", subject, f.Key, first)
			continue
		}
		seen[f.Key] = f.Line
		out = append(out, f)
	}
	return out
}

func (ps *parser) field(n *yaml.Node, subject string, nested bool) *Field {
	m, ok := ps.p.mapping(n, subject)
	if !ok {
		return nil
	}
	f := &Field{Line: n.Line}
	f.Key = m.required(subject, "key")
	if f.Key == "" {
		return nil
	}
	subject += " " + f.Key
	m.only(subject, "key", "label", "help", "type", "required", "min", "max", "max_length",
		"pattern", "options", "option_labels", "option_labels_en", "columns", "max_rows", "label_en")
	if !fieldKey.MatchString(f.Key) {
		ps.p.atLine(m.line("key"), "%s: key must be lower_snake_case (a-z, 0-9, _), starting with a letter", subject)
	}
	f.Label = cmp.Or(m.str(subject, "label"), f.Key)
	f.LabelEN = m.str(subject, "label_en")
	f.Help = m.str(subject, "help")
	f.Required = m.boolean(subject, "required")
	f.Type = FieldType(m.required(subject, "type"))
	if f.Type == "" {
		return f
	}
	if !slices.Contains(fieldTypes, f.Type) {
		ps.p.atLine(m.line("type"), "%s: unknown field type %q (want %s)", subject, f.Type, typeList())
		return f
	}
	ps.fieldLimits(m, f, subject, nested)
	return f
}

// fieldLimits reads the keys that apply to some field types only.
func (ps *parser) fieldLimits(m *mapping, f *Field, subject string, nested bool) {
	only := func(key string, types ...FieldType) bool {
		if !m.has(key) {
			return false
		}
		if !slices.Contains(types, f.Type) {
			ps.p.atLine(m.line(key), "%s: %s applies only to %s fields", subject, key, joinTypes(types))
			return false
		}
		return true
	}
	if only("min", FieldNumber, FieldMoney) {
		f.Min = ps.bound(m, f, subject, "min")
	}
	if only("max", FieldNumber, FieldMoney) {
		f.Max = ps.bound(m, f, subject, "max")
	}
	if f.Min != nil && f.Max != nil && f.Min.GreaterThan(*f.Max) {
		ps.p.atLine(m.line("max"), "%s: max %s is less than min %s", subject, f.Max, f.Min)
	}
	if only("max_length", FieldString, FieldText) {
		if v, ok := m.integer(subject, "max_length"); ok && v < 1 {
			ps.p.atLine(m.line("max_length"), "%s: max_length must be at least 1, got %d", subject, v)
		} else {
			f.MaxLength = v
		}
	}
	if only("pattern", FieldString, FieldText) {
		f.PatternSource = m.str(subject, "pattern")
		// Compiled bare first so that a fault is shown as the file wrote it.
		if _, err := regexp.Compile(f.PatternSource); err != nil {
			ps.p.atLine(m.line("pattern"), "%s: pattern: %v", subject, err)
		} else {
			f.Pattern = regexp.MustCompile(`^(?:` + f.PatternSource + `)$`)
		}
	}
	if only("options", FieldEnum) {
		f.Options = m.list(subject, "options")
		ps.checkOptions(m, f, subject)
	}
	if only("option_labels", FieldEnum) {
		f.OptionLabels = ps.optionLabels(m, f, subject, "option_labels")
	}
	if only("option_labels_en", FieldEnum) {
		f.OptionLabelsEN = ps.optionLabels(m, f, subject, "option_labels_en")
	}
	if f.Type == FieldEnum && len(f.Options) == 0 && !m.has("options") {
		ps.p.atLine(f.Line, "%s: an enum needs options", subject)
	}
	if f.Type == FieldTable && nested {
		ps.p.atLine(m.line("type"), "%s: a table column cannot be a table", subject)
		return
	}
	if only("columns", FieldTable) {
		f.Columns = ps.fields(m.seq(subject, "columns"), subject+" column", true)
	}
	if f.Type == FieldTable && len(f.Columns) == 0 && !m.has("columns") {
		ps.p.atLine(f.Line, "%s: a table needs columns", subject)
	}
	if only("max_rows", FieldTable) {
		if v, ok := m.integer(subject, "max_rows"); ok && v < 1 {
			ps.p.atLine(m.line("max_rows"), "%s: max_rows must be at least 1, got %d", subject, v)
		} else {
			f.MaxRows = v
		}
	}
}

func (ps *parser) checkOptions(m *mapping, f *Field, subject string) {
	if len(f.Options) == 0 {
		ps.p.atLine(m.line("options"), "%s: an enum needs options", subject)
	}
	seen := map[string]bool{}
	for _, o := range f.Options {
		if strings.TrimSpace(o) == "" {
			ps.p.atLine(m.line("options"), "%s: options must not be empty", subject)
		}
		if seen[o] {
			ps.p.atLine(m.line("options"), "%s: option %q is listed twice", subject, o)
		}
		seen[o] = true
	}
}

// optionLabels reads key (option_labels, option_labels_en), a mapping of
// an enum's options to what people read for them; every key must be an
// option, every label text.
func (ps *parser) optionLabels(m *mapping, f *Field, subject, key string) map[string]string {
	lm, ok := ps.p.mapping(m.get(key), subject+": "+key)
	if !ok {
		return nil
	}
	labels := map[string]string{}
	for _, k := range lm.keys {
		v := lm.vals[k.Value]
		switch {
		case !slices.Contains(f.Options, k.Value):
			ps.p.at(k, "%s: %s: %q is not one of the options", subject, key, k.Value)
		case v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "":
			ps.p.at(v, "%s: %s: the label of %q must be text", subject, key, k.Value)
		default:
			labels[k.Value] = v.Value
		}
	}
	return labels
}

// OptionLabel is what people read for an enum's option: its label, or the
// option itself.
func (f *Field) OptionLabel(option string) string {
	if l, ok := f.OptionLabels[option]; ok {
		return l
	}
	return option
}

// OptionLabelIn is OptionLabel for a reader of English (en) or not: an
// English reader reads option_labels_en, or the option itself.
func (f *Field) OptionLabelIn(option string, en bool) string {
	if !en {
		return f.OptionLabel(option)
	}
	if l, ok := f.OptionLabelsEN[option]; ok {
		return l
	}
	return option
}

// LabelIn is the field's label for a reader of English (en) or not.
func (f *Field) LabelIn(en bool) string {
	if en && f.LabelEN != "" {
		return f.LabelEN
	}
	return f.Label
}

// NameIn is the flow's name for a reader of English (en) or not.
func (f *Flow) NameIn(en bool) string {
	if en && f.NameEN != "" {
		return f.NameEN
	}
	return f.Name
}

// NameIn is the step's name for a reader of English (en) or not.
func (s *Step) NameIn(en bool) string {
	if en && s.NameEN != "" {
		return s.NameEN
	}
	return s.Name
}

// bound reads a min or max as an exact decimal; a money bound may not be
// finer than a fen.
func (ps *parser) bound(m *mapping, f *Field, subject, key string) *decimal.Decimal {
	n := m.get(key)
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float" && n.ShortTag() != "!!str") {
		ps.p.at(n, "%s: %s: expected a number, got %s", subject, key, kindName(n))
		return nil
	}
	d, err := decimal.NewFromString(n.Value)
	if err != nil {
		ps.p.at(n, "%s: %s: expected a number, got %q", subject, key, n.Value)
		return nil
	}
	if f.Type == FieldMoney && d.Exponent() < -MoneyPlaces && !d.Equal(d.Truncate(MoneyPlaces)) {
		ps.p.at(n, "%s: %s: money has at most %d decimal places, got %s", subject, key, MoneyPlaces, n.Value)
		return nil
	}
	return &d
}

func typeList() string { return joinTypes(fieldTypes) }

func joinTypes(types []FieldType) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// String describes the field for messages, e.g. "amount (money)".
func (f *Field) String() string { return fmt.Sprintf("%s (%s)", f.Key, f.Type) }

// Field is the form's field key; nil when the form has none.
func (f *Flow) Field(key string) *Field { return f.fields[key] }
