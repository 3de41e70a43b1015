package sim

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"cardflow/bot"
	"cardflow/queue"
)

// Kind says who a message is from.
type Kind string

// Message kinds.
const (
	// KindCard is a card the pipeline sent (Send) and may update.
	KindCard Kind = "card"
	// KindReply is a card the bot answered a message with (a command's
	// answer), shown in the chat at once.
	KindReply Kind = "reply"
	// KindText is what a person typed to the bot.
	KindText Kind = "text"
)

// Message is one message of an inbox.
type Message struct {
	ID   string    `json:"id"`
	Kind Kind      `json:"kind"`
	Card *bot.Card `json:"card,omitempty"`
	// Text and From (the sim id of who said it) are set for KindText.
	Text string `json:"text,omitempty"`
	From string `json:"from,omitempty"`
	// Seq orders an inbox's messages as they were first shown; Rev is the
	// simulator's revision at the message's last change.
	Seq       int64     `json:"seq"`
	Rev       int64     `json:"rev"`
	SentAt    time.Time `json:"sent_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// inbox is one conversation: a person's with the bot ("user:<sim id>") or a
// group chat ("chat:<chat id>").
type inbox struct {
	msgs []*Message // by Seq
	byID map[string]*Message
	rev  int64 // the revision of its last change
	seen int64 // the revision up to which the page read it
}

// Inbox keys: a person's conversation and a group chat.
const (
	userPrefix = "user:"
	chatPrefix = "chat:"
)

// inboxOf returns the inbox a reader's cards go to.
func inboxOf(r bot.Reader) (string, error) {
	switch {
	case r.ChatID != "":
		return chatPrefix + r.ChatID, nil
	case r.PlatformUserID != "":
		return userPrefix + r.PlatformUserID, nil
	}
	return "", queue.Permanent(errors.New("sim: the reader has neither a sim id nor a chat id"))
}

// put stores msg in the inbox under key, as a new message or, when msg.ID
// names one it holds, in place of it, and returns its id. The caller holds
// p.mu. name names a group chat the first time a card reaches it.
func (p *Platform) put(key, name string, msg Message) string {
	in := p.inboxes[key]
	if in == nil {
		in = &inbox{byID: map[string]*Message{}}
		p.inboxes[key] = in
		if id, ok := strings.CutPrefix(key, chatPrefix); ok && !p.knownChat(id) {
			p.chats = append(p.chats, Chat{ID: id, Name: name})
		}
	}
	p.rev++
	in.rev = p.rev
	if old := in.byID[msg.ID]; msg.ID != "" && old != nil {
		msg.Seq, msg.SentAt = old.Seq, old.SentAt
		msg.Rev = p.rev
		*old = msg
		p.notify()
		return msg.ID
	}
	p.seq++
	msg.Seq, msg.Rev = p.seq, p.rev
	if msg.ID == "" {
		msg.ID = "sim_" + p.boot + "_" + strconv.FormatInt(p.seq, 10)
	}
	m := &msg
	in.msgs = append(in.msgs, m)
	in.byID[m.ID] = m
	if extra := len(in.msgs) - p.cfg.InboxSize; extra > 0 {
		for _, old := range in.msgs[:extra] {
			delete(in.byID, old.ID)
		}
		in.msgs = slices.Delete(in.msgs, 0, extra)
	}
	p.notify()
	return m.ID
}

// replaceCard shows c on the message id of the inbox under key, unless the
// message is gone or already shows a later state of the instance (a click
// answered after the pipeline's update). The caller holds p.mu.
func (p *Platform) replaceCard(key, id string, c bot.Card) bool {
	in := p.inboxes[key]
	if in == nil || in.byID[id] == nil {
		return false
	}
	old := in.byID[id]
	if old.Card != nil && old.Card.InstanceID == c.InstanceID && old.Card.Version > c.Version {
		return false
	}
	upd := *old
	upd.Card, upd.UpdatedAt = cloneCard(c), p.now()
	p.put(key, "", upd)
	return true
}

// notify wakes everyone waiting for a change. The caller holds p.mu.
func (p *Platform) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// messages returns copies of the inbox's messages changed after revision
// since, by Seq. The caller holds p.mu.
func (p *Platform) messages(key string, since int64) []Message {
	in := p.inboxes[key]
	if in == nil {
		return nil
	}
	var out []Message
	for _, m := range in.msgs {
		if m.Rev > since {
			out = append(out, *m)
		}
	}
	return out
}

// unread counts the cards of an inbox shown or changed after the page last
// read it. The caller holds p.mu.
func (p *Platform) unread(key string) int {
	in := p.inboxes[key]
	if in == nil {
		return 0
	}
	n := 0
	for _, m := range in.msgs {
		if m.Rev > in.seen && m.Kind != KindText {
			n++
		}
	}
	return n
}

// markRead marks an inbox read up to now. The caller holds p.mu.
func (p *Platform) markRead(key string) {
	if in := p.inboxes[key]; in != nil && in.seen != p.rev {
		in.seen = p.rev
		p.rev++
		in.rev = p.rev // the page's other tabs learn the count is 0
		p.notify()
	}
}

// locate returns the inbox holding message id. The caller holds p.mu.
func (p *Platform) locate(id string) (string, bool) {
	for key, in := range p.inboxes {
		if in.byID[id] != nil {
			return key, true
		}
	}
	return "", false
}

func (p *Platform) knownChat(id string) bool {
	return slices.ContainsFunc(p.chats, func(c Chat) bool { return c.ID == id })
}

// cloneCard copies c deeply enough that the caller's slices can change
// after Send without changing what the inbox shows.
func cloneCard(c bot.Card) *bot.Card {
	c.Fields = slices.Clone(c.Fields)
	c.Buttons = slices.Clone(c.Buttons)
	tables := make([]bot.Table, len(c.Tables))
	for i, t := range c.Tables {
		t.Columns = slices.Clone(t.Columns)
		rows := make([][]string, len(t.Rows))
		for j, r := range t.Rows {
			rows[j] = slices.Clone(r)
		}
		t.Rows = rows
		tables[i] = t
	}
	if c.Tables != nil {
		c.Tables = tables
	}
	inputs := slices.Clone(c.Inputs)
	for i := range inputs {
		inputs[i].Options = slices.Clone(inputs[i].Options)
	}
	c.Inputs = inputs
	if c.Image != nil {
		img := *c.Image
		c.Image = &img
	}
	return &c
}
