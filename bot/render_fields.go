package bot

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"cardflow/flows"
)

// formView is the form as the card may show it: the reader's view, less
// the fields step hides. The view alone is not enough for a task card: a
// reader with tasks at several steps (or an administrator, who views
// everything) must still not see on a task's card what its step hides.
// step "" (or a step the flow does not have: the applicant's resubmit
// task) takes the view as it is.
func (p *page) formView(step string) []flows.FieldView {
	if step == flows.StartForm || p.flow.Step(step) == nil {
		return p.view.Form
	}
	out := make([]flows.FieldView, 0, len(p.view.Form))
	for _, fv := range p.view.Form {
		if p.flow.Access(step, fv.Field.Key) != flows.AccessHidden {
			out = append(out, fv)
		}
	}
	return out
}

// title says what the card is about: the instance's title as the reader
// reads it (flows.Flow.TitleIn), and the amount when the reader may see
// one (订单履约 · TM-1001 · ¥6,800.00). A stored title holds only fields no
// step hides, so the amount is added here, for the readers who may see it.
func (p *page) title(views []flows.FieldView) string {
	t := p.view.Instance.Title
	if p.t.en {
		t = p.flow.TitleIn(t, flows.ViewValues(views), true)
	}
	if t == "" {
		t = p.flow.NameIn(p.t.en)
	}
	for _, fv := range views {
		if fv.Field.Type != flows.FieldMoney || !fv.Set {
			continue
		}
		m := p.value(fv.Field, fv.Value)
		if m != "" && !strings.Contains(t, m) {
			t += " · " + m
		}
		break
	}
	return t
}

// fields writes the form's set values as fields and its tables as tables,
// in form order.
func (p *page) fields(views []flows.FieldView) ([]Field, []Table) {
	var fields []Field
	var tables []Table
	for _, fv := range views {
		if !fv.Set || fv.Value == nil {
			continue
		}
		if fv.Field.Type == flows.FieldTable {
			if t, ok := p.table(fv.Field, fv.Value); ok {
				tables = append(tables, t)
			}
			continue
		}
		v := p.value(fv.Field, fv.Value)
		if v == "" {
			continue
		}
		fields = append(fields, Field{Label: fv.Field.LabelIn(p.t.en), Value: v, Short: short(fv.Field.Type)})
	}
	return fields, tables
}

// short says which values are short enough to sit two to a row.
func short(t flows.FieldType) bool { return t != flows.FieldText && t != flows.FieldAttachment }

// results are the result forms of steps (the flow's, in file order, when
// none are named) that were completed, as fields labelled as their forms
// label them.
func (p *page) results(steps ...*flows.Step) []Field {
	if len(steps) == 0 {
		steps = p.flow.AllSteps()
	}
	var out []Field
	for _, s := range steps {
		values := p.view.Results[s.ID]
		if len(values) == 0 {
			continue
		}
		for _, fd := range s.ResultForm {
			if v, ok := values[fd.Key]; ok && v != nil {
				if text := p.value(fd, v); text != "" {
					out = append(out, Field{Label: fd.LabelIn(p.t.en), Value: text, Short: short(fd.Type)})
				}
			}
		}
	}
	return out
}

func (p *page) table(fd *flows.Field, v any) (Table, bool) {
	rows, ok := v.([]any)
	if !ok || len(rows) == 0 {
		return Table{}, false
	}
	t := Table{Title: fd.LabelIn(p.t.en)}
	for _, col := range fd.Columns {
		t.Columns = append(t.Columns, col.LabelIn(p.t.en))
	}
	for _, r := range rows {
		row, _ := r.(map[string]any)
		cells := make([]string, len(fd.Columns))
		for i, col := range fd.Columns {
			if cv, ok := row[col.Key]; ok && cv != nil {
				cells[i] = p.value(col, cv)
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	return t, true
}

// value writes one value for people: money as ¥6,800.00 (never 6800),
// numbers with thousands separators, yes/no, users by name, the rest as
// stored.
func (p *page) value(fd *flows.Field, v any) string {
	switch fd.Type {
	case flows.FieldMoney:
		if d, ok := toDecimal(v); ok {
			return flows.FormatMoney(d)
		}
	case flows.FieldNumber:
		if d, ok := toDecimal(v); ok {
			return groupDigits(d.String())
		}
	case flows.FieldBool:
		if b, ok := v.(bool); ok {
			if b {
				return p.t.s(mYes)
			}
			return p.t.s(mNo)
		}
	case flows.FieldUser:
		if id, ok := v.(string); ok && id != "" {
			return p.name(id)
		}
	case flows.FieldEnum:
		if o, ok := v.(string); ok {
			return fd.OptionLabelIn(o, p.t.en)
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// toDecimal reads an amount or number as the store keeps it (text
// "6800.00", or a JSON number) exactly.
func toDecimal(v any) (decimal.Decimal, bool) {
	var s string
	switch x := v.(type) {
	case decimal.Decimal:
		return x, true
	case string:
		s = x
	case json.Number:
		s = x.String()
	case float64:
		return decimal.NewFromFloat(x), true
	case int:
		return decimal.NewFromInt(int64(x)), true
	case int64:
		return decimal.NewFromInt(x), true
	default:
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	return d, err == nil
}

// inputs are the boxes of a task's result form.
func (p *page) inputs(form []*flows.Field) []Input { return formInputs(form, p.t) }

// formInputs are the boxes of a form: a result form on a task card, a
// flow's form on a /start card. Tables do not fit on a card; callers leave
// them out.
// FormInputs are the inputs a card asks a form's fields with, in the
// reader's language: what /start's form card shows, and what an adapter's
// card asks of a flow it offers to start.
func FormInputs(form []*flows.Field, l Locale) []Input { return formInputs(form, translator(l)) }

func formInputs(form []*flows.Field, t tr) []Input {
	out := make([]Input, 0, len(form))
	for _, fd := range form {
		in := Input{Name: fd.Key, Label: fd.LabelIn(t.en), Kind: InputText, Placeholder: fd.Help, Required: fd.Required}
		switch fd.Type {
		case flows.FieldNumber, flows.FieldMoney:
			in.Kind = InputNumber
		case flows.FieldDate:
			in.Kind = InputDate
		case flows.FieldEnum:
			in.Kind = InputSelect
			for _, o := range fd.Options {
				in.Options = append(in.Options, Option{Value: o, Label: fd.OptionLabelIn(o, t.en)})
			}
		case flows.FieldBool:
			in.Kind = InputSelect
			in.Options = []Option{{Value: "true", Label: t.s(mYes)}, {Value: "false", Label: t.s(mNo)}}
		}
		out = append(out, in)
	}
	return out
}
