package feishu

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"cardflow/bot"
)

// maxCardBytes is Feishu's limit on a card's JSON (30 KB); a card is made
// to fit under it with room to spare for the message envelope.
const maxCardBytes = 28 * 1024

// maxTableRows is how many rows of a table a card shows before it says
// how many more there are.
const maxTableRows = 20

// Card JSON 2.0 as Feishu defines it. Only properties Feishu knows are
// written: schema 2.0 rejects unknown ones.
type card struct {
	Schema string     `json:"schema"`
	Config cardConfig `json:"config"`
	Header cardHeader `json:"header"`
	Body   cardBody   `json:"body"`
}

type cardConfig struct {
	// UpdateMulti makes the card shared: one card for every viewer, which
	// PATCH and a click's answer can replace. Schema 2.0 requires it.
	UpdateMulti bool `json:"update_multi"`
	// Summary is what the chat list shows for the card.
	Summary *summary `json:"summary,omitempty"`
}

type summary struct {
	Content string `json:"content"`
}

type cardHeader struct {
	Title    plainText  `json:"title"`
	Subtitle *plainText `json:"subtitle,omitempty"`
	Template string     `json:"template"`
}

type cardBody struct {
	Elements []any `json:"elements"`
}

type plainText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

func text(s string) plainText { return plainText{Tag: "plain_text", Content: s} }

func textPtr(s string) *plainText {
	if s == "" {
		return nil
	}
	t := text(s)
	return &t
}

type markdown struct {
	Tag      string `json:"tag"`
	Content  string `json:"content"`
	TextSize string `json:"text_size,omitempty"`
}

func md(s string) markdown { return markdown{Tag: "markdown", Content: s} }

type columnSet struct {
	Tag      string   `json:"tag"`
	FlexMode string   `json:"flex_mode"`
	Columns  []column `json:"columns"`
}

type column struct {
	Tag      string `json:"tag"`
	Width    string `json:"width"`
	Weight   int    `json:"weight,omitempty"`
	Elements []any  `json:"elements"`
}

type table struct {
	Tag      string              `json:"tag"`
	PageSize int                 `json:"page_size"`
	Columns  []tableColumn       `json:"columns"`
	Rows     []map[string]string `json:"rows"`
}

type tableColumn struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	DataType    string `json:"data_type"`
}

// headerColours are the header templates by card status.
var headerColours = map[bot.Status]string{
	bot.StatusPending:   "blue",
	bot.StatusApproved:  "green",
	bot.StatusRejected:  "red",
	bot.StatusReturned:  "orange",
	bot.StatusDone:      "grey",
	bot.StatusInfo:      "wathet",
	bot.StatusAlert:     "red",
	bot.StatusAlertWarn: "orange",
}

// Render returns c as Feishu card JSON 2.0, for a reader who reads loc.
// A card that would exceed Feishu's size limit loses table rows first
// (with a note of how many), then the end of its text.
func Render(c bot.Card, loc bot.Locale) ([]byte, error) {
	rows, textLen := maxTableRows, -1
	for {
		b, err := json.Marshal(build(c, loc, rows, textLen))
		if err != nil {
			return nil, fmt.Errorf("feishu: render card %s: %w", c.Subject, err)
		}
		if len(b) <= maxCardBytes {
			return b, nil
		}
		switch {
		case rows > 0 && len(c.Tables) > 0:
			rows /= 2
		case textLen != 0:
			if textLen < 0 {
				textLen = utf8.RuneCountInString(c.Text)
			}
			textLen /= 2
		default:
			return nil, fmt.Errorf("feishu: render card %s: %d bytes is over Feishu's limit even without tables and text", c.Subject, len(b))
		}
	}
}

// build lays the card out: fields, text, tables, image, inputs and
// buttons (in a form when there are inputs, so that a click brings them),
// then what happened, the footer and the link.
func build(c bot.Card, loc bot.Locale, rows, textLen int) card {
	colour, ok := headerColours[c.Status]
	if !ok {
		colour = "blue"
	}
	out := card{
		Schema: "2.0",
		Config: cardConfig{UpdateMulti: true, Summary: &summary{Content: c.Title}},
		Header: cardHeader{Title: text(c.Title), Subtitle: textPtr(c.Subtitle), Template: colour},
	}
	el := []any{}
	if c.StatusLine != "" {
		el = append(el, md("**"+c.StatusLine+"**"))
	}
	el = append(el, fields(c.Fields)...)
	if c.Text != "" {
		el = append(el, md(cut(c.Text, textLen, loc)))
	}
	for _, t := range c.Tables {
		el = append(el, tableElements(t, rows, loc)...)
	}
	if c.Image != nil && c.Image.URL != "" {
		// A card shows only uploaded images (img_key); a link is honest.
		el = append(el, md("["+escapeLink(c.Image.Alt)+"]("+c.Image.URL+")"))
	}
	el = append(el, actions(c)...)
	if c.Note != "" {
		el = append(el, markdown{Tag: "markdown", Content: c.Note, TextSize: "notation"})
	}
	if c.Link != "" {
		el = append(el, markdown{Tag: "markdown", Content: "[" + tr(loc, "在控制台查看", "Open in the console") + "](" + c.Link + ")", TextSize: "notation"})
	}
	out.Body.Elements = el
	return out
}

// fields puts short fields two to a row and long ones on their own.
func fields(fs []bot.Field) []any {
	var out []any
	var pending []bot.Field
	flush := func() {
		if len(pending) == 0 {
			return
		}
		cs := columnSet{Tag: "column_set", FlexMode: "bisect"}
		for _, f := range pending {
			cs.Columns = append(cs.Columns, column{Tag: "column", Width: "weighted", Weight: 1,
				Elements: []any{md(fieldText(f))}})
		}
		out = append(out, cs)
		pending = nil
	}
	for _, f := range fs {
		if !f.Short {
			flush()
			out = append(out, md(fieldText(f)))
			continue
		}
		pending = append(pending, f)
		if len(pending) == 2 {
			flush()
		}
	}
	flush()
	return out
}

func fieldText(f bot.Field) string { return "**" + f.Label + "**\n" + f.Value }

// tableElements shows a table's first rows and says how many were left out.
func tableElements(t bot.Table, rows int, loc bot.Locale) []any {
	var out []any
	if t.Title != "" {
		out = append(out, md("**"+t.Title+"**"))
	}
	tb := table{Tag: "table", PageSize: 10, Rows: []map[string]string{}}
	for i, name := range t.Columns {
		tb.Columns = append(tb.Columns, tableColumn{Name: fmt.Sprintf("c%d", i), DisplayName: name, DataType: "text"})
	}
	shown := min(rows, len(t.Rows))
	for _, r := range t.Rows[:shown] {
		m := map[string]string{}
		for i, v := range r {
			if i < len(t.Columns) {
				m[fmt.Sprintf("c%d", i)] = v
			}
		}
		tb.Rows = append(tb.Rows, m)
	}
	if shown > 0 {
		tb.PageSize = min(10, shown)
		out = append(out, tb)
	}
	if left := len(t.Rows) - shown; left > 0 {
		out = append(out, markdown{Tag: "markdown", TextSize: "notation",
			Content: tr(loc, fmt.Sprintf("…另有 %d 行，在控制台查看全部", left), fmt.Sprintf("… %d more rows; see them all in the console", left))})
	}
	return out
}

// cut shortens markdown to n runes (n < 0: not at all), saying so.
func cut(s string, n int, loc bot.Locale) string {
	if n < 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "\n" + tr(loc, "…（内容过长，在控制台查看全部）", "… (too long; see all in the console)")
}

func escapeLink(s string) string {
	return strings.NewReplacer("[", "", "]", "", "(", "", ")", "").Replace(s)
}

func tr(loc bot.Locale, zh, en string) string {
	if loc == bot.LocaleEN {
		return en
	}
	return zh
}
