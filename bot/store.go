package bot

import (
	"context"
	"errors"
	"time"
)

// Store is what bot remembers across deliveries, callbacks and server
// instances: which platform message shows which card to whom, the latest
// state each shows, and the inbound events already answered. bot declares
// it so that flows.Store is not widened for chat; storage/postgres and
// storage/sqlite implement both.
//
// Every method validates its arguments first (see the Validate methods and
// the Max* limits) and fails with ErrInvalid, writing nothing, when one
// could not be stored the same way by every store.
type Store interface {
	// PutCard records c as the message showing its card, unless the card
	// recorded under c.CardKey is newer. It writes c when no card is
	// recorded there, when the recorded one shows an older state
	// (c.StateVersion greater), or the same state on the same message (equal
	// StateVersion and MessageID: a re-render with a new Digest). It refuses,
	// reporting false and writing nothing, an older state, and the same state
	// on another message: of two messages sent for one state (two servers
	// racing to send a new card), the first recorded stays, and the other's
	// sender learns that it lost and can recall its copy. The check and the
	// write are one atomic step, so the rule holds across server instances,
	// whatever order and however often the writes arrive.
	//
	// UpdateToken and TokenExpires are written only with a new message (an
	// insert, or another MessageID than the recorded one). The tokens a
	// message gets later come and go through SetCardToken and TakeCardToken,
	// so recording a new state never drops a token a click has just brought.
	PutCard(ctx context.Context, c CardMessage) (applied bool, err error)

	// Card returns the card recorded under k; ErrNotFound if there is none.
	Card(ctx context.Context, k CardKey) (CardMessage, error)

	// InstanceCards returns every card about an instance (every copy: each
	// recipient, each platform, task cards and instance cards alike),
	// ordered by platform, recipient and subject. An instance without cards
	// has none; that is not an error.
	InstanceCards(ctx context.Context, instanceID string) ([]CardMessage, error)

	// SetCardToken records token as the update token of the card under k if
	// it still shows messageID, whatever state it shows (a click's callback
	// brings a fresh one: WeCom's ResponseCode, Feishu's delayed-update
	// token). It reports false when there is no such card or it shows
	// another message by now.
	SetCardToken(ctx context.Context, k CardKey, messageID, token string, expires time.Time) (bool, error)

	// TakeCardToken returns the update token of the card under k and clears
	// it, in one atomic step, so that a token good for one use (WeCom's
	// response_code) is used once however many servers update the card. It
	// returns "" when there is no such card, it shows another message than
	// messageID, it has no token, or the token expired at or before now.
	TakeCardToken(ctx context.Context, k CardKey, messageID string, now time.Time) (string, error)

	// RememberEvent records an inbound event with its answer, unless an
	// event with the same Platform and ID was recorded before. first reports
	// whether this call recorded it; stored is the event as the first call
	// recorded it (its Answer and At), so a callback the platform retries,
	// or a click made twice, is answered identically and acts once.
	// Concurrent calls with one id see exactly one first.
	RememberEvent(ctx context.Context, e Event) (first bool, stored Event, err error)

	// LookupEvent returns the event recorded with Platform platform and ID
	// id, and whether there is one.
	LookupEvent(ctx context.Context, platform, id string) (Event, bool, error)

	// PruneEvents deletes up to limit events whose At is before before,
	// oldest first, and returns how many it deleted; a pruner calls it until
	// it deletes fewer than limit. A limit of 0 or less deletes nothing. An
	// event pruned and then seen again is first again, so keep events longer
	// than the platforms retry (Feishu: hours).
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Errors a Store returns; callers test them with errors.Is. They are bot's
// own, not flows', because bot declares this store.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid value")
)

// CardKey names one card: what one recipient sees about one subject on one
// platform. A card is shown by one message at a time; updating the card in
// place edits that message.
type CardKey struct {
	Platform string // feishu, wecom, dingtalk, sim
	// Recipient is the internal user id of a person, or the platform's id
	// of a group chat (a card posted to a group); the store keeps them
	// opaque, so callers keep the two apart.
	Recipient string
	// Subject is what the card shows: a task id for a card a person acts on,
	// an instance id for a card that follows a whole instance.
	Subject string
}

// String is the key as platform/recipient/subject, for errors and logs.
func (k CardKey) String() string { return k.Platform + "/" + k.Recipient + "/" + k.Subject }

// CardMessage is the platform message that shows a card, and what it shows.
type CardMessage struct {
	CardKey
	// InstanceID is the instance the card is about, so that after a
	// decision every copy of its cards can be found and updated.
	InstanceID string
	// MessageID is the platform's id of the message: Feishu's om_…,
	// WeCom's msgid, DingTalk's outTrackId.
	MessageID string
	// UpdateToken is what the platform needs besides MessageID to update
	// the message (WeCom's response_code, Feishu's delayed-update token);
	// empty when none is held. TokenExpires is when it stops working; zero
	// when unknown.
	UpdateToken  string
	TokenExpires time.Time
	// StateVersion is the instance version the message shows; a card never
	// goes back to an older one (see Store.PutCard).
	StateVersion int64
	// Digest is a hash of the rendered card, so an update that would change
	// nothing the recipient sees is skipped.
	Digest string
	// SentAt is when MessageID was sent, UpdatedAt when it was last sent or
	// updated.
	SentAt    time.Time
	UpdatedAt time.Time
}

// Event is an inbound platform event bot has handled: a card click, a chat
// message or command.
type Event struct {
	Platform string
	// ID is the platform's id of the event: Feishu's header.event_id (a
	// message's message_id), WeCom's MsgId (for a click, FromUserName,
	// CreateTime, TaskId and EventKey joined), DingTalk's msgId.
	ID string
	// Answer is what the callback was answered with (a card, a passive
	// reply), in the platform's format; it may be empty.
	Answer []byte
	// At is when the event was first handled; PruneEvents goes by it.
	At time.Time
}
