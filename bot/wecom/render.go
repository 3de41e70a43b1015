package wecom

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"cardflow/bot"
	"cardflow/flows"
)

// ErrCard is what a card WeCom cannot take wraps (a button key or task id
// beyond WeCom's limits): sending it again will not help.
var ErrCard = errors.New("card beyond what WeCom takes")

// Render renders a neutral card to a template card for a reader in locale
// l, as message taskID. A card with buttons becomes button_interaction.
// One without gets a "my to-dos" choice, so that WeCom lets the app update
// it later (it updates only cards that call back): a text_notice whose tap
// opens the card's link, with the choice in its menu, when the card has a
// link (WeCom requires a text_notice to open one); otherwise a
// button_interaction whose one button is the choice.
//
// A template card has no text inputs, so a button that needs the card's
// input (a rejection's reason, a task's result form, a start form) is left
// out, and the card says which buttons those are and, when the card has a
// link, to do them on the web page.
func Render(c bot.Card, l bot.Locale, taskID string) (TemplateCard, error) {
	if !validTaskID(taskID) {
		return TemplateCard{}, fmt.Errorf("%w: task id %q", ErrCard, taskID)
	}
	w := words(l)
	out := TemplateCard{CardType: CardNotice, TaskID: taskID,
		Source:    &Source{Desc: w.status(c.Status), DescColor: statusColor(c.Status)},
		MainTitle: MainTitle{Title: cut(c.Title, maxTitle), Desc: c.Subtitle}}

	// A title or subtitle too long for the header is shown whole in the
	// body: cut short there, it would lose the deadline or the amount.
	var body []string
	if utf8.RuneCountInString(c.Title) > maxTitle {
		body = append(body, c.Title)
	}
	if utf8.RuneCountInString(c.Subtitle) > maxDesc {
		out.MainTitle.Desc = ""
		body = append(body, c.Subtitle)
	}
	body = append(body, c.StatusLine, plain(c.Text))

	var quote []string
	for i, f := range c.Fields {
		if i < maxHorizontal {
			out.HorizontalContentList = append(out.HorizontalContentList, HorizontalContent{KeyName: f.Label, Value: f.Value})
			continue
		}
		quote = append(quote, f.Label+"："+f.Value)
	}
	for _, t := range c.Tables {
		quote = append(quote, tableLines(t)...)
	}
	if len(quote) > 0 {
		out.QuoteArea = &QuoteArea{QuoteText: cut(strings.Join(quote, "\n"), maxQuote)}
	}

	var left []string
	for _, b := range c.Buttons {
		if b.NeedsInput {
			left = append(left, b.Label)
			continue
		}
		if len(out.ButtonList) == maxButtons {
			continue // the renderer offers fewer; never more than six
		}
		key, err := ButtonKey(b)
		if err != nil {
			return TemplateCard{}, err
		}
		out.ButtonList = append(out.ButtonList, TemplateButton{Text: b.Label, Style: buttonStyle(b.Style), Key: key})
	}
	if len(left) > 0 {
		body = append(body, w.leftOut(left, c.Link != ""))
	}
	body = append(body, c.Note)
	out.SubTitleText = cut(joinLines(body), maxSubTitle)

	if c.Link != "" {
		out.CardAction = &CardAction{Type: 1, URL: c.Link}
		out.JumpList = append(out.JumpList, Jump{Type: 1, Title: w.open, URL: c.Link})
	}
	if c.Image != nil && c.Image.URL != "" {
		out.JumpList = append(out.JumpList, Jump{Type: 1, Title: cut(cmpOr(c.Image.Alt, w.image), 13), URL: c.Image.URL})
	}
	if len(out.ButtonList) == 0 {
		todo := commandKey(cmdTodo, c.Subject)
		if c.Link != "" {
			out.ActionMenu = &ActionMenu{ActionList: []MenuAction{{Text: w.todo, Key: todo}}}
		} else {
			out.ButtonList = []TemplateButton{{Text: w.todo, Style: 2, Key: todo}}
		}
	}
	if len(out.ButtonList) > 0 {
		out.CardType = CardButtons
	}
	return out, nil
}

// cmdTodo is the command of the "my to-dos" choice.
const cmdTodo = "todo"

// commandKey is the key of a choice that runs a command rather than an
// action; it names the card's subject, so the click's response_code can
// be kept for the card.
func commandKey(cmd, subject string) string {
	v := url.Values{"cmd": {cmd}}
	if len(subject) <= bot.MaxIDLen {
		v.Set("s", subject)
	}
	return v.Encode()
}

// parseCommandKey decodes a key commandKey made.
func parseCommandKey(key string) (cmd, subject string, ok bool) {
	if len(key) > maxKeyBytes {
		return "", "", false
	}
	v, err := url.ParseQuery(key)
	if err != nil || v.Get("cmd") == "" {
		return "", "", false
	}
	return v.Get("cmd"), v.Get("s"), true
}

// ButtonKey encodes what a click on b must bring back (its action,
// payload and fixed values) as the button's key, at most 1,024 bytes.
func ButtonKey(b bot.Button) (string, error) {
	v := url.Values{"a": {string(b.Action)}, "p": {b.Payload}}
	for k, x := range b.Values {
		if strings.HasPrefix(k, "_") {
			v.Set(k, x)
		}
	}
	key := v.Encode()
	if len(key) > maxKeyBytes {
		return "", fmt.Errorf("%w: button %q: key of %d bytes, WeCom takes %d", ErrCard, b.Label, len(key), maxKeyBytes)
	}
	return key, nil
}

// ParseButtonKey decodes a key ButtonKey made, as a click's EventKey
// brings it back.
func ParseButtonKey(key string) (action flows.ActionKind, payload string, values map[string]string, err error) {
	if len(key) > maxKeyBytes {
		return "", "", nil, fmt.Errorf("%w: event key of %d bytes", ErrCard, len(key))
	}
	v, err := url.ParseQuery(key)
	if err != nil || v.Get("a") == "" || v.Get("p") == "" {
		return "", "", nil, fmt.Errorf("%w: event key is not a cardflow button", ErrCard)
	}
	values = map[string]string{}
	for k := range v {
		if strings.HasPrefix(k, "_") {
			values[k] = v.Get(k)
		}
	}
	return flows.ActionKind(v.Get("a")), v.Get("p"), values, nil
}

var taskIDChars = regexp.MustCompile(`^[0-9A-Za-z_\-@]{1,128}$`)

func validTaskID(id string) bool { return taskIDChars.MatchString(id) }

func buttonStyle(s bot.ButtonStyle) int {
	switch s {
	case bot.StylePrimary:
		return 1
	case bot.StyleDanger:
		return 3
	}
	return 2
}

func statusColor(s bot.Status) int {
	switch s {
	case bot.StatusApproved:
		return 3
	case bot.StatusRejected, bot.StatusAlert:
		return 2
	case bot.StatusPending:
		return 1
	}
	return 0
}

var (
	mdBold = strings.NewReplacer("**", "", "__", "")
	mdLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)]*)\)`)
)

// plain turns the card's markdown (bold, lists, links) into the plain
// text a template card shows.
func plain(md string) string {
	md = mdLink.ReplaceAllString(md, "$1")
	lines := strings.Split(mdBold.Replace(md), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "- "); ok {
			lines[i] = "· " + rest
		}
	}
	return strings.Join(lines, "\n")
}

func tableLines(t bot.Table) []string {
	var out []string
	if t.Title != "" {
		out = append(out, t.Title)
	}
	if len(t.Columns) > 0 {
		out = append(out, strings.Join(t.Columns, " | "))
	}
	for _, r := range t.Rows {
		out = append(out, strings.Join(r, " | "))
	}
	return out
}

func joinLines(parts []string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "\n")
}

// cut shortens s to at most n characters, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
