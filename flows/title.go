package flows

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// MaxTitleLength is the longest instance title, in characters; Feishu
// caps an approval title at the same length. A longer title is refused
// when given, and cut when built from a template.
const MaxTitleLength = 100

// placeholder is a form field named in a title template: {order_no}.
var placeholder = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// TitleTemplate builds an instance's title from its form, as a flow's
// `title:` says, e.g. "订单履约 · {order_no} · {platform}".
type TitleTemplate struct {
	Source string
	fields []*Field
	en     bool // title_en: values as English readers read them
}

// parseTitle reads a flow's title template. Every placeholder must be a
// scalar field of the form that no step hides: the title is shown to
// everyone who sees the instance, so it cannot carry a hidden value.
func (ps *parser) parseTitle(m *mapping, key string) *TitleTemplate {
	src := m.str("flow", key)
	if src == "" {
		return nil
	}
	line := m.line(key)
	t := &TitleTemplate{Source: src, en: key == "title_en"}
	for _, sub := range placeholder.FindAllStringSubmatch(src, -1) {
		field := sub[1]
		fd := ps.f.fields[field]
		switch {
		case fd == nil:
			ps.p.atLine(line, "flow: %s: {%s} is not a field of the form", key, field)
			continue
		case fd.Type == FieldTable:
			ps.p.atLine(line, "flow: %s: {%s} is a table; name a single field", key, field)
			continue
		}
		t.fields = append(t.fields, fd)
	}
	if strings.ContainsAny(placeholder.ReplaceAllString(src, ""), "{}") {
		ps.p.atLine(line, "flow: %s: write a placeholder as {field_key}, lower_snake_case", key)
	}
	return t
}

// checkTitle refuses a title placeholder of a field a step hides; it runs
// once the steps are parsed.
func (ps *parser) checkTitle(t *TitleTemplate, key string, line int) {
	if t == nil {
		return
	}
	ps.f.walk(func(s *Step) {
		for _, fd := range t.fields {
			if s.Fields[fd.Key] == AccessHidden {
				ps.p.atLine(line, "flow: %s: {%s} is hidden at step %s, and a title is shown to everyone", key, fd.Key, s.ID)
			}
		}
	})
}

// submittedBy joins an applicant's name and a flow's name in the title an
// instance gets when its flow has no template: 陈客服提交的订单履约.
const submittedBy = "提交的"

// TitleIn is an instance's stored title as a reader reads it, given the
// instance's form (the values the reader may see will do: a title holds no
// hidden field). For English (en), a title the engine built is rebuilt in
// English: from title_en when the flow has one, else from title with its
// values and the flow's name in English ("订单履约 · TM-1001" reads "Order
// fulfilment · TM-1001", "退货 · JD-7" reads "Return · JD-7"; without a
// template "陈客服提交的订单履约" reads "Order fulfilment submitted by
// 陈客服"). A title someone gave stays as given.
func (f *Flow) TitleIn(stored string, form map[string]any, en bool) string {
	if !en || stored == "" {
		return stored
	}
	if f.Title != nil && f.Title.Render(form) == stored {
		if t := f.TitleEN.Render(form); t != "" {
			return t
		}
		// No title_en: the template again, its values (an option's
		// label, yes or no) in English, and the flow's name in English.
		t := f.Title.render(form, true)
		if rest, ok := strings.CutPrefix(t, f.Name); ok && f.NameEN != "" {
			return f.NameEN + rest
		}
		return t
	}
	if who, ok := strings.CutSuffix(stored, submittedBy+f.Name); ok && who != "" {
		return f.NameIn(true) + " submitted by " + who
	}
	if stored == f.Name {
		return f.NameIn(true) // an instance its event started
	}
	return stored
}

// TitleOf is TitleIn over a stored instance's own form.
func (f *Flow) TitleOf(inst Instance, en bool) string {
	if !en {
		return inst.Title
	}
	var form map[string]any
	if len(inst.Form) > 0 {
		// A form that does not decode leaves a template's title as stored.
		form, _ = decodeObject(inst.Form)
	}
	return f.TitleIn(inst.Title, form, en)
}

// ViewValues are the set values of a form view, by key: what TitleIn reads.
func ViewValues(views []FieldView) map[string]any {
	out := make(map[string]any, len(views))
	for _, fv := range views {
		if fv.Set {
			out[fv.Field.Key] = fv.Value
		}
	}
	return out
}

// Render fills the template from a validated form; an empty optional field
// leaves its separator out, and the result is cut to MaxTitleLength. A nil
// template renders "".
func (t *TitleTemplate) Render(form map[string]any) string {
	if t == nil {
		return ""
	}
	return t.render(form, t.en)
}

// render is Render with the values written for English readers (en) or not.
func (t *TitleTemplate) render(form map[string]any, en bool) string {
	out := placeholder.ReplaceAllStringFunc(t.Source, func(m string) string {
		key := m[1 : len(m)-1]
		for _, fd := range t.fields {
			if fd.Key == key {
				return DisplayValue(fd, form[key], en)
			}
		}
		return ""
	})
	out = strings.Trim(strings.Join(strings.Fields(out), " "), " ·-|/:")
	return truncate(out, MaxTitleLength)
}

// DisplayValue writes a form value for people, in English (en) or not:
// money as ¥6,800.00, true and false as 是 and 否 (Yes, No), an option by
// its label, the rest as stored.
func DisplayValue(fd *Field, v any, en bool) string {
	if v == nil {
		return ""
	}
	switch fd.Type {
	case FieldMoney:
		if d, err := toDecimal(v); err == nil {
			return FormatMoney(d)
		}
	case FieldBool:
		if b, ok := v.(bool); ok {
			switch {
			case en && b:
				return "Yes"
			case en:
				return "No"
			case b:
				return "是"
			}
			return "否"
		}
	case FieldEnum:
		if o, ok := v.(string); ok {
			return fd.OptionLabelIn(o, en)
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case decimal.Decimal:
		return x.String()
	}
	s, _ := marshal(v)
	return strings.Trim(string(s), `"`)
}

// FormatMoney writes an amount of CNY as people read it: ¥6,800.00,
// -¥12.50, with thousands separators and exactly MoneyPlaces decimals.
func FormatMoney(d decimal.Decimal) string {
	s := "¥" + GroupThousands(d.Abs().StringFixed(MoneyPlaces))
	if d.IsNegative() {
		return "-" + s
	}
	return s
}

// GroupThousands puts thousands separators into the whole part of a
// number written in digits: 6800.5 → 6,800.5, -1234 → -1,234.
func GroupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// truncate cuts s to at most n characters, ending with … when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
