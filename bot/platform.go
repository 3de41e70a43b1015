package bot

import (
	"context"
	"time"
)

// Platform is what a chat platform package does for the pipeline: send a
// card to one reader, and update a card it sent. bot/feishu, bot/wecom,
// bot/dingtalk and bot/sim implement it; each is wired in one line (see
// Platforms).
//
// Errors say whether trying again may help, as the queue understands them:
// queue.RateLimited(err, after) when the platform said to slow down (or
// the limiter refused the call before it was made), queue.Permanent(err)
// when it never will (a bad card, an unknown user, a message too old to
// update), and a plain error for what may pass (a timeout, a 5xx).
type Platform interface {
	// Name is the platform's key in users' platform ids: feishu, wecom,
	// dingtalk, sim.
	Name() string
	// Send delivers a new card to the reader and returns the message.
	Send(ctx context.Context, to Reader, c Card) (Sent, error)
	// Update replaces the card shown by a message sent before.
	Update(ctx context.Context, to Reader, m CardMessage, c Card) (Sent, error)
}

// Reader is who a card is for, on one platform.
type Reader struct {
	// UserID is the org directory's id; PlatformUserID the reader's id on
	// the platform (Feishu open_id, WeCom userid, DingTalk staffId).
	UserID         string
	PlatformUserID string
	// ChatID is set instead for a group chat.
	ChatID string
	Name   string
	Locale Locale
	Zone   *time.Location
}

// Sent is what a platform reports of a message it sent or updated.
type Sent struct {
	MessageID string
	// UpdateToken is what a later update needs when the platform wants one
	// (WeCom's response_code); "" otherwise.
	UpdateToken  string
	TokenExpires time.Time
}

// Locale is the language a reader reads cards in.
type Locale string

// Locales. Chinese is the default; a user's locale in the org file picks
// English.
const (
	LocaleZH Locale = "zh-CN"
	LocaleEN Locale = "en"
)
