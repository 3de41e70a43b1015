package bot

import (
	"context"

	"cardflow/flows"
)

// Inbound is what a platform hands over when a reader acts: a click on a
// card button, or a message to the bot. The platform has verified the
// callback's signature and decoded it; the user id comes from the signed
// payload only, never from the button.
type Inbound interface {
	// Click runs the button's action as the platform user and answers with
	// the card as it now stands and a short toast. A click on a card that
	// is out of date is not an error: the answer is the current card.
	Click(ctx context.Context, c Click) (ClickReply, error)
	// Message answers a message to the bot (a command) with cards.
	Message(ctx context.Context, m Message) ([]Card, error)
}

// Click is a decoded card click.
type Click struct {
	Platform string
	// EventID is the platform's id of the callback; a retried callback
	// carries the same one and gets the same answer.
	EventID        string
	PlatformUserID string
	Payload        string
	Action         flows.ActionKind
	// Values are the card's inputs as submitted: InputComment and the
	// result-form fields.
	Values map[string]string
	// MessageID is the message clicked, set by a platform whose answer to a
	// click replaces that message's card (Feishu, DingTalk, the
	// simulator): the card recorded for it is brought to the answered
	// state, so the delivery of the same state does not send it again.
	MessageID string
}

// ClickReply is what the clicker sees at once.
type ClickReply struct {
	Card  *Card `json:"card,omitempty"`
	Toast Toast `json:"toast"`
}

// Toast is a short message shown over the card.
type Toast struct {
	Kind ToastKind `json:"kind"`
	Text string    `json:"text"`
}

// ToastKind colours a toast.
type ToastKind string

// Toast kinds, as Feishu names them.
const (
	ToastSuccess ToastKind = "success"
	ToastInfo    ToastKind = "info"
	ToastWarning ToastKind = "warning"
	ToastError   ToastKind = "error"
)

// Message is a decoded message to the bot: in a direct chat, or with the
// bot @-mentioned in a group (ChatID set).
type Message struct {
	Platform       string
	EventID        string
	PlatformUserID string
	ChatID         string
	Text           string
}
