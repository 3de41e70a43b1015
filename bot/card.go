package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"cardflow/flows"
)

// Card is the platform-neutral card every notification and command answer
// is expressed in. A platform package renders it to its own card JSON
// (Feishu card 2.0, WeCom template card, DingTalk interactive card, the
// simulator's page); nothing about a platform lives here. A Card is built
// for one reader: its fields are those the reader's step may see, its
// money and times written for the reader's locale and time zone.
type Card struct {
	// Subject is what the card shows: a task id, an instance id, or a
	// command answer's own id. A reader has at most one card per subject
	// and platform; a later state updates it in place.
	Subject string `json:"subject"`
	// InstanceID is the instance the card is about ("" for command answers).
	InstanceID string `json:"instance_id,omitempty"`
	// Version is the instance version the card shows; an older version
	// never replaces a newer one.
	Version int64 `json:"version"`

	Status Status `json:"status"`
	// Title says what it is about: 订单履约 · TM-1001 · ¥6,800.00.
	Title string `json:"title"`
	// Subtitle says where it stands: the step, who applied, when.
	Subtitle string  `json:"subtitle,omitempty"`
	Fields   []Field `json:"fields,omitempty"`
	Tables   []Table `json:"tables,omitempty"`
	// Text is markdown: **bold**, lists and links only, which every
	// platform renders.
	Text  string `json:"text,omitempty"`
	Image *Image `json:"image,omitempty"`
	// Buttons are what the reader may do now; none once it is decided.
	Buttons []Button `json:"buttons,omitempty"`
	// Inputs ask for a comment or reason, or a task's result form, where
	// the platform has inputs; a button with NeedsInput submits them.
	Inputs []Input `json:"inputs,omitempty"`
	// StatusLine says what happened, after a decision: 已同意 · 钱多多 · 10:42.
	StatusLine string `json:"status_line,omitempty"`
	// Link opens the instance in the console.
	Link string `json:"link,omitempty"`
	// Note is a small footer (a proxy's "代 赵敏 处理", a reminder count).
	Note string `json:"note,omitempty"`
}

// Status colours a card's header.
type Status string

// Card statuses: the state of the task or instance, or an alert's severity.
const (
	StatusPending   Status = "pending"    // waits for the reader: blue
	StatusApproved  Status = "approved"   // green
	StatusRejected  Status = "rejected"   // red
	StatusReturned  Status = "returned"   // orange
	StatusDone      Status = "done"       // grey: closed, nothing to do
	StatusInfo      Status = "info"       // a copy, a command answer: neutral
	StatusAlert     Status = "alert"      // an alert firing: red
	StatusAlertWarn Status = "alert_warn" // an alert acknowledged or snoozed: orange
)

// Field is one label and value; Short fields may sit two to a row.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
	Short bool   `json:"short,omitempty"`
}

// Table is a small grid: order lines, stock per warehouse.
type Table struct {
	Title   string     `json:"title,omitempty"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Image is a picture on the card (a KPI chart); Alt says what it shows.
type Image struct {
	URL string `json:"url"`
	Alt string `json:"alt"`
}

// ButtonStyle tells a platform how to draw a button.
type ButtonStyle string

// Button styles.
const (
	StylePrimary ButtonStyle = "primary"
	StyleDanger  ButtonStyle = "danger"
	StyleDefault ButtonStyle = "default"
)

// Button is one thing the reader can do. Action is the engine action it
// runs; Payload says on what, opaque and short (see Payload); NeedsInput
// says the action wants the card's input (a rejection's reason).
type Button struct {
	Label      string           `json:"label"`
	Style      ButtonStyle      `json:"style,omitempty"`
	Action     flows.ActionKind `json:"action"`
	Payload    string           `json:"payload"`
	NeedsInput bool             `json:"needs_input,omitempty"`
	// Values are what the action needs besides its target and the card's
	// inputs, fixed by the button: where a 退回 goes (ValueReturnTo), how
	// long a snooze lasts (ValueSnoozeFor). A platform sends them back
	// with the click, among Click.Values.
	Values map[string]string `json:"values,omitempty"`
}

// Names of Button.Values. They start with "_", which a form field's key
// cannot, so they never collide with a result form's inputs.
const (
	// ValueReturnTo is where a return button returns the instance to: a
	// step id or flows.ReturnToApplicant (Action.To).
	ValueReturnTo = "_return_to"
	// ValueSnoozeFor is how long a snooze button silences an alert, as a
	// Go duration ("1h"); the click's time plus it is Action.Until.
	ValueSnoozeFor = "_snooze_for"
)

// Input is a box on the card: free text, a number, a date, or one of
// Options. Name is the result-form field key, or InputComment.
type Input struct {
	Name        string    `json:"name"`
	Label       string    `json:"label"`
	Kind        InputKind `json:"kind"`
	Placeholder string    `json:"placeholder,omitempty"`
	Required    bool      `json:"required,omitempty"`
	Options     []Option  `json:"options,omitempty"`
	// Value is what the input holds when the card is shown: a form
	// field's current value for a step that may change it.
	Value string `json:"value,omitempty"`
}

// InputComment is the name of a card's comment or reason box.
const InputComment = "comment"

// InputEdit prefixes the name of an input that changes a form field the
// task's step may edit (E_amount): 同意 and 办理 send what it holds as an
// edit, unless it was left blank. A field key is lower_snake_case, so no
// result field's input is named so.
const InputEdit = "E_"

// InputKind is what an input takes.
type InputKind string

// Input kinds.
const (
	InputText   InputKind = "text"
	InputNumber InputKind = "number"
	InputDate   InputKind = "date"
	InputSelect InputKind = "select"
)

// Option is one choice of a select input.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Digest identifies what a card shows, so an update that would change
// nothing is not sent.
func (c Card) Digest() string {
	b, _ := json.Marshal(c) // a Card is strings, ints and slices: it encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// Payload is what a button carries back: the task or instance it acts on
// and the instance version the card showed, so a click on a card that is
// out of date can be told from one on the current state. It is not a
// credential: the acting user comes from the platform's signed callback and
// the engine checks that they may act.
type Payload struct {
	TaskID     string
	InstanceID string
	// FlowID is set on a start form's button instead: "f:<flow>:0".
	FlowID  string
	Version int64
}

// String encodes the payload as "t:<task>:<version>" or
// "i:<instance>:<version>": short enough for every platform's button value
// (WeCom's key takes 1,024 bytes).
func (p Payload) String() string {
	if p.TaskID != "" {
		return "t:" + p.TaskID + ":" + strconv.FormatInt(p.Version, 10)
	}
	if p.FlowID != "" {
		return "f:" + p.FlowID + ":0"
	}
	return "i:" + p.InstanceID + ":" + strconv.FormatInt(p.Version, 10)
}

// ParsePayload decodes a button payload; ErrInvalid for anything else. A
// task's or instance's payload names the version its card showed, at least
// 1: a version of 0 would skip the check of an outdated card.
func ParsePayload(s string) (Payload, error) {
	kind, rest, ok := strings.Cut(s, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok || i <= 0 || len(s) > MaxIDLen+32 {
		return Payload{}, fmt.Errorf("payload %q: %w", truncate(s, 40), ErrInvalid)
	}
	id, v := rest[:i], rest[i+1:]
	version, err := strconv.ParseInt(v, 10, 64)
	if err != nil || version < 0 || flows.CheckText("payload", id, MaxIDLen) != nil {
		return Payload{}, fmt.Errorf("payload %q: %w", truncate(s, 40), ErrInvalid)
	}
	switch {
	case kind == "t" && version > 0:
		return Payload{TaskID: id, Version: version}, nil
	case kind == "i" && version > 0:
		return Payload{InstanceID: id, Version: version}, nil
	case kind == "f":
		return Payload{FlowID: id}, nil
	}
	return Payload{}, fmt.Errorf("payload %q: %w", truncate(s, 40), ErrInvalid)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
