package dingtalk

import (
	"encoding/json"
	"net/url"
	"strings"

	"cardflow/bot"
	"cardflow/flows"
)

// The template's variables: the keys of the cardParamMap Render fills. A
// template made in DingTalk's card builder must declare each of them (see
// the package doc); every value is a string, lists are JSON-encoded.
const (
	ParamTitle      = "title"
	ParamSubtitle   = "subtitle"
	ParamStatus     = "status"
	ParamColor      = "status_color"
	ParamMarkdown   = "markdown"
	ParamButtons    = "buttons"
	ParamHasButtons = "has_buttons"
	ParamInputs     = "inputs"
	ParamHasInputs  = "has_inputs"
	ParamStatusLine = "status_line"
	ParamNote       = "note"
)

// ParamButton is the name of the callback parameter a button sends back:
// its id (see ButtonID).
const ParamButton = "id"

// colors are the header colours of the card statuses, as DingTalk's card
// builder names its colour tokens.
var colors = map[bot.Status]string{
	bot.StatusPending: "blue", bot.StatusApproved: "green", bot.StatusRejected: "red",
	bot.StatusReturned: "orange", bot.StatusDone: "gray", bot.StatusInfo: "gray",
	bot.StatusAlert: "red", bot.StatusAlertWarn: "orange",
}

// templateButton is one element of the buttons variable.
type templateButton struct {
	Label string `json:"label"`
	Style string `json:"style"`
	ID    string `json:"id"`
}

// templateInput is one element of the inputs variable.
type templateInput struct {
	Name        string       `json:"name"`
	Label       string       `json:"label"`
	Kind        string       `json:"kind"`
	Placeholder string       `json:"placeholder,omitempty"`
	Required    bool         `json:"required,omitempty"`
	Options     []bot.Option `json:"options,omitempty"`
	Value       string       `json:"value,omitempty"`
}

// Render turns a neutral card into the template's cardParamMap, in the
// reader's language l (only the link's words depend on it: the card's own
// text is written for its reader already).
func Render(c bot.Card, l bot.Locale) map[string]string {
	buttons := make([]templateButton, 0, len(c.Buttons))
	for _, b := range c.Buttons {
		style := string(b.Style)
		if style == "" {
			style = string(bot.StyleDefault)
		}
		buttons = append(buttons, templateButton{Label: b.Label, Style: style, ID: ButtonID(b)})
	}
	inputs := make([]templateInput, 0, len(c.Inputs))
	if len(buttons) > 0 {
		// Inputs only make sense with a button to submit them.
		for _, in := range c.Inputs {
			inputs = append(inputs, templateInput{Name: in.Name, Label: in.Label, Kind: string(in.Kind),
				Placeholder: in.Placeholder, Required: in.Required, Options: in.Options, Value: in.Value})
		}
	}
	color, ok := colors[c.Status]
	if !ok {
		color = "gray"
	}
	return map[string]string{
		ParamTitle:      c.Title,
		ParamSubtitle:   c.Subtitle,
		ParamStatus:     string(c.Status),
		ParamColor:      color,
		ParamMarkdown:   markdown(c, l),
		ParamButtons:    mustJSON(buttons),
		ParamHasButtons: boolString(len(buttons) > 0),
		ParamInputs:     mustJSON(inputs),
		ParamHasInputs:  boolString(len(inputs) > 0),
		ParamStatusLine: c.StatusLine,
		ParamNote:       c.Note,
	}
}

// markdown is the card's body: fields, tables, text, image and link, in
// the markdown DingTalk's card markdown component and robot messages both
// render (bold, lists, links, images; no tables).
func markdown(c bot.Card, l bot.Locale) string {
	var parts []string
	if len(c.Fields) > 0 {
		var lines []string
		for _, f := range c.Fields {
			lines = append(lines, "**"+plain(f.Label)+"**："+plain(f.Value))
		}
		parts = append(parts, strings.Join(lines, "  \n"))
	}
	for _, t := range c.Tables {
		var lines []string
		head := plain(strings.Join(t.Columns, " · "))
		if t.Title != "" {
			head = "**" + plain(t.Title) + "**（" + head + "）"
		}
		lines = append(lines, head)
		for _, r := range t.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = plain(v)
			}
			lines = append(lines, "- "+strings.Join(cells, " · "))
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	if c.Text != "" {
		parts = append(parts, c.Text)
	}
	if c.Image != nil && safeURL(c.Image.URL) {
		parts = append(parts, "!["+plain(c.Image.Alt)+"]("+c.Image.URL+")")
	}
	if c.Link != "" && safeURL(c.Link) {
		label := "查看详情"
		if l == bot.LocaleEN {
			label = "Details"
		}
		parts = append(parts, "["+label+"]("+c.Link+")")
	}
	return strings.Join(parts, "\n\n")
}

// plainText keeps a field or a cell from turning into markdown: a buyer's
// note must not become a link or bold text. The full-width forms read the
// same to people.
var plainText = strings.NewReplacer("[", "［", "]", "］", "*", "＊", "`", "'", "<", "＜", ">", "＞",
	"_", "＿", "\r\n", " ", "\n", " ", "!", "！", "#", "＃")

func plain(s string) string { return plainText.Replace(s) }

// safeURL holds for an http(s) URL that cannot break out of a markdown
// link.
func safeURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsAny(s, " ()<>\n")
}

// ButtonID is what a button sends back when clicked: its action, its
// payload and the values it fixes, as "action|payload" or
// "action|payload|values" (values query-encoded). The actor never comes
// from it.
func ButtonID(b bot.Button) string {
	id := string(b.Action) + "|" + b.Payload
	if len(b.Values) > 0 {
		v := url.Values{}
		for k, s := range b.Values {
			v.Set(k, s)
		}
		id += "|" + v.Encode()
	}
	return id
}

// maxButtonID bounds a button id read back from a click: a payload, an
// action and two short values.
const maxButtonID = 512

// ParseButtonID reads a ButtonID back; ok is false for anything a
// rendered button could not have sent.
func ParseButtonID(id string) (action flows.ActionKind, payload string, values map[string]string, ok bool) {
	if id == "" || len(id) > maxButtonID {
		return "", "", nil, false
	}
	parts := strings.SplitN(id, "|", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", nil, false
	}
	action = flows.ActionKind(parts[0])
	if !action.OnTask() && !action.OnInstance() && !action.OnFlow() {
		return "", "", nil, false
	}
	if _, err := bot.ParsePayload(parts[1]); err != nil {
		return "", "", nil, false
	}
	values = map[string]string{}
	if len(parts) == 3 {
		q, err := url.ParseQuery(parts[2])
		if err != nil {
			return "", "", nil, false
		}
		for k, v := range q {
			// A button fixes only values named with "_" (bot.ValueReturnTo,
			// bot.ValueSnoozeFor); anything else came from elsewhere.
			if !strings.HasPrefix(k, "_") || len(v) != 1 {
				return "", "", nil, false
			}
			values[k] = v[0]
		}
	}
	return action, parts[1], values, true
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // lists of strings and bools always encode
	}
	return string(b)
}
