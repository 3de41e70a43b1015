package feishu

import (
	"fmt"

	"cardflow/bot"
)

type button struct {
	Tag  string    `json:"tag"`
	Name string    `json:"name,omitempty"`
	Text plainText `json:"text"`
	Type string    `json:"type"`
	// FormActionType "submit" makes a button in a form send the form's
	// values (form_value) with the click.
	FormActionType string     `json:"form_action_type,omitempty"`
	Behaviors      []behavior `json:"behaviors"`
}

type behavior struct {
	Type  string      `json:"type"`
	Value buttonValue `json:"value"`
}

// buttonValue is what a click brings back in action.value: the button's
// action, payload and fixed values, in short keys (a card is limited in
// size, and the value is repeated per button).
type buttonValue struct {
	Action  string            `json:"a"`
	Payload string            `json:"p"`
	Values  map[string]string `json:"v,omitempty"`
}

type form struct {
	Tag      string `json:"tag"`
	Name     string `json:"name"`
	Elements []any  `json:"elements"`
}

type input struct {
	Tag           string     `json:"tag"`
	Name          string     `json:"name"`
	Label         *plainText `json:"label,omitempty"`
	LabelPosition string     `json:"label_position,omitempty"`
	Placeholder   *plainText `json:"placeholder,omitempty"`
	DefaultValue  string     `json:"default_value,omitempty"`
	MaxLength     int        `json:"max_length,omitempty"`
}

type selectStatic struct {
	Tag         string     `json:"tag"`
	Name        string     `json:"name"`
	Placeholder *plainText `json:"placeholder,omitempty"`
	// InitialOption is the value chosen when the card is shown.
	InitialOption string         `json:"initial_option,omitempty"`
	Options       []selectOption `json:"options"`
}

type selectOption struct {
	Text  plainText `json:"text"`
	Value string    `json:"value"`
}

// buttonTypes map the neutral styles to Feishu's button types.
var buttonTypes = map[bot.ButtonStyle]string{
	bot.StylePrimary: "primary",
	bot.StyleDanger:  "danger",
	bot.StyleDefault: "default",
}

// maxInputLength bounds what a reader can type into a box (Feishu allows
// 1,000 characters).
const maxInputLength = 1000

// actions renders the buttons, and the inputs with them in a form: a
// button in a form submits the form, so a rejection brings its reason.
func actions(c bot.Card) []any {
	if len(c.Buttons) == 0 {
		return nil
	}
	inForm := len(c.Inputs) > 0
	row := columnSet{Tag: "column_set", FlexMode: "flow"}
	for i, b := range c.Buttons {
		typ, ok := buttonTypes[b.Style]
		if !ok {
			typ = "default"
		}
		btn := button{Tag: "button", Text: text(b.Label), Type: typ,
			Behaviors: []behavior{{Type: "callback", Value: buttonValue{Action: string(b.Action), Payload: b.Payload, Values: b.Values}}}}
		if inForm {
			btn.Name, btn.FormActionType = fmt.Sprintf("b%d", i), "submit"
		}
		row.Columns = append(row.Columns, column{Tag: "column", Width: "auto", Elements: []any{btn}})
	}
	if !inForm {
		return []any{row}
	}
	f := form{Tag: "form", Name: "f"}
	for _, in := range c.Inputs {
		f.Elements = append(f.Elements, inputElements(in)...)
	}
	f.Elements = append(f.Elements, row)
	return []any{f}
}

func inputElements(in bot.Input) []any {
	label := in.Label
	if in.Required {
		label += " *"
	}
	if in.Kind == bot.InputSelect {
		s := selectStatic{Tag: "select_static", Name: in.Name, Placeholder: textPtr(in.Placeholder), InitialOption: in.Value}
		if s.Placeholder == nil {
			s.Placeholder = textPtr(in.Label)
		}
		for _, o := range in.Options {
			s.Options = append(s.Options, selectOption{Text: text(o.Label), Value: o.Value})
		}
		return []any{md(label), s}
	}
	placeholder := in.Placeholder
	if placeholder == "" && in.Kind == bot.InputDate {
		placeholder = "YYYY-MM-DD"
	}
	return []any{input{Tag: "input", Name: in.Name, Label: textPtr(label), LabelPosition: "top",
		Placeholder: textPtr(placeholder), DefaultValue: in.Value, MaxLength: maxInputLength}}
}
