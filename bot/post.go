package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cardflow/flows"
	"cardflow/queue"
)

// Audience is who a posted card goes to: one person of the org directory
// (on each of their platforms), or one group chat on one platform.
type Audience struct {
	UserID   string
	Platform string
	ChatID   string
}

// String names the audience for logs and subjects: the user id, or
// chat:<platform>:<chat id>.
func (a Audience) String() string {
	if a.ChatID != "" {
		return "chat:" + a.Platform + ":" + a.ChatID
	}
	return a.UserID
}

// Post claims record a send in progress: a card under a post's key whose
// message id starts with postPending is being sent (by this or another
// server), one starting with postFree was not sent and may be claimed.
const (
	postPending = "pending:"
	postFree    = "unsent:"
)

// PostClaimTTL is how long a claimed post is left to its sender before
// another delivery takes it over (the sender died between its claim and
// recording what it sent).
const PostClaimTTL = 2 * time.Minute

// errPostBusy is a post another delivery is sending: retry later, when it
// will have recorded its message.
var errPostBusy = errors.New("being sent by another delivery")

// Post delivers a card that follows no flow instance (a KPI digest) to the
// audience, once per subject: a person gets it on each of their platforms,
// a group chat on its platform. Every copy is recorded under (platform,
// recipient, subject) before it is sent, as a claim that one atomic
// PutCard grants to one delivery across server instances, and after it is
// sent, with its message; a copy already recorded as sent is not sent
// again, so a run repeated after a restart, or handled by two servers at
// once, sends each copy once. The one gap is a sender dying between the
// platform's answer and recording it: its claim is taken over after
// PostClaimTTL and the copy sent anew, the same at-least-once every card
// has.
//
// render builds the card for one reader; the limiter is asked before every
// send, and its refusal is a rate-limited error the queue retries.
func (p *Pipeline) Post(ctx context.Context, to Audience, subject string, render func(context.Context, Reader) (Card, error)) error {
	if err := ValidateID("subject", subject); err != nil {
		return queue.Permanent(err)
	}
	if to.ChatID != "" {
		pl := p.d.Platforms[to.Platform]
		if pl == nil {
			return queue.Permanent(fmt.Errorf("bot: post %s: platform %q is not configured", subject, to.Platform))
		}
		r := Reader{ChatID: to.ChatID, Locale: LocaleZH}
		return p.postOne(ctx, pl, r, CardKey{Platform: pl.Name(), Recipient: to.String(), Subject: subject}, render)
	}
	user, err := p.d.Directory.User(ctx, to.UserID)
	if errors.Is(err, flows.ErrNotFound) {
		p.d.Logger.Warn("post to a user no longer in the org directory", "user", to.UserID, "subject", subject)
		return nil
	} else if err != nil {
		return fmt.Errorf("bot: post %s to %s: %w", subject, to.UserID, err)
	}
	var errs []error
	for name, pl := range p.d.Platforms {
		pid := user.PlatformIDs[name]
		if pid == "" {
			continue
		}
		key := CardKey{Platform: name, Recipient: user.ID, Subject: subject}
		if err := p.postOne(ctx, pl, readerOf(user, pid), key, render); err != nil {
			errs = append(errs, err)
		}
	}
	return firstRetry(errs)
}

// postOne sends one copy of a post unless it was sent (see Post).
func (p *Pipeline) postOne(ctx context.Context, pl Platform, r Reader, key CardKey,
	render func(context.Context, Reader) (Card, error)) error {
	unlock, err := p.locks.lock(ctx, key)
	if err != nil {
		return fmt.Errorf("bot: post %s: %w", key, err)
	}
	defer unlock()
	old, err := p.d.Store.Card(ctx, key)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bot: post %s: %w", key, err)
	}
	now := p.d.Now()
	version := int64(1)
	if exists {
		switch {
		case strings.HasPrefix(old.MessageID, postPending) && now.Sub(old.UpdatedAt) < PostClaimTTL:
			return fmt.Errorf("bot: post %s: %w", key, errPostBusy)
		case !strings.HasPrefix(old.MessageID, postPending) && !strings.HasPrefix(old.MessageID, postFree):
			return nil // sent
		}
		version = old.StateVersion + 1
	}
	card, err := render(ctx, r)
	if err != nil {
		return fmt.Errorf("bot: post %s: render: %w", key, err)
	}
	card.Subject = key.Subject
	if err := p.allow(ctx, pl.Name(), r); err != nil {
		return err
	}
	claim := CardMessage{CardKey: key, InstanceID: key.Subject, MessageID: postPending + queue.NewID(), StateVersion: version,
		SentAt: now, UpdatedAt: now}
	if ok, err := p.d.Store.PutCard(ctx, claim); err != nil {
		return fmt.Errorf("bot: post %s: claim: %w", key, err)
	} else if !ok {
		return fmt.Errorf("bot: post %s: %w", key, errPostBusy)
	}
	sent, sendErr := pl.Send(ctx, r, card)
	p.d.Sends.observe(pl.Name(), sendErr)
	rec := CardMessage{CardKey: key, InstanceID: key.Subject, MessageID: sent.MessageID, UpdateToken: sent.UpdateToken,
		TokenExpires: sent.TokenExpires, StateVersion: version + 1, Digest: card.Digest(), SentAt: now, UpdatedAt: p.d.Now()}
	if sendErr != nil || rec.MessageID == "" {
		// Not sent: free the claim so that the retry sends at once.
		rec = CardMessage{CardKey: key, InstanceID: key.Subject, MessageID: postFree + queue.NewID(), StateVersion: version + 1,
			SentAt: now, UpdatedAt: p.d.Now()}
		if sendErr == nil {
			sendErr = queue.Permanent(errors.New("the platform named no message"))
		}
	}
	if _, err := p.d.Store.PutCard(ctx, rec); err != nil && sendErr == nil {
		return fmt.Errorf("bot: post %s: record: %w", key, err)
	}
	if sendErr != nil {
		return fmt.Errorf("bot: post %s: %w", key, sendErr)
	}
	return nil
}
