package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/flows"
	"cardflow/queue"
	"cardflow/server"
)

// WithQueue lets admin tokens list, inspect, replay and discard the dead
// letters of q's topics (the notification and digest topics, say); a
// topic not named here is refused.
func (a *API) WithQueue(q queue.Queue, topics ...string) *API {
	a.queue, a.topics = q, topics
	return a
}

// deadLetterOut is a dead letter as GET /api/v1/deadletters lists it:
// what failed and why, not the payload.
type deadLetterOut struct {
	ID       string    `json:"id"`
	Topic    string    `json:"topic"`
	Key      string    `json:"key,omitempty"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	FailedAt time.Time `json:"failed_at"`
}

// deadLetterOutOf is dl, a dead letter of topic, as the API lists it.
func deadLetterOutOf(topic string, dl queue.DeadLetter) deadLetterOut {
	return deadLetterOut{ID: dl.Message.ID, Topic: topic, Key: dl.Message.Key,
		Attempts: dl.Message.Attempt, Error: dl.Error, FailedAt: dl.FailedAt}
}

// listDeadLetters answers GET /api/v1/deadletters: the dead letters of one
// topic, or of every topic when none is named, newest first.
func (a *API) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	if !a.hasQueue(w) {
		return
	}
	p := params{q: r.URL.Query()}
	topics := a.topics
	if t := p.str("topic"); t != "" {
		if !slices.Contains(a.topics, t) {
			p.bad("the topic query parameter %q is not one of %s", t, strings.Join(a.topics, ", "))
		}
		topics = []string{t}
	}
	limit := p.limit(flows.DefaultPageSize, maxPageSize)
	if p.answer(w) {
		return
	}
	var out []deadLetterOut
	for _, topic := range topics {
		dls, err := a.queue.DeadLetters(r.Context(), topic, limit)
		if err != nil {
			a.fail(w, r, fmt.Errorf("dead letters of %s: %w", topic, err))
			return
		}
		for _, dl := range dls {
			out = append(out, deadLetterOutOf(topic, dl))
		}
	}
	slices.SortStableFunc(out, func(x, y deadLetterOut) int { return y.FailedAt.Compare(x.FailedAt) })
	out = out[:min(len(out), limit)]
	if out == nil {
		out = []deadLetterOut{}
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"deadletters": out})
}

// replayDeadLetter answers POST /api/v1/deadletters/{topic}/{id}/replay:
// the message goes back on its topic with its attempts reset.
func (a *API) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	topic, id, ok := a.deadLetterPath(w, r)
	if !ok {
		return
	}
	err := a.queue.Replay(r.Context(), topic, id)
	if errors.Is(err, queue.ErrNotFound) {
		server.WriteError(w, http.StatusNotFound, server.CodeNotFound, fmt.Sprintf("topic %s has no dead letter %s", topic, id))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("replay %s of %s: %w", id, topic, err))
		return
	}
	a.log.Info("dead letter replayed", "topic", topic, "id", id, "by", principalOf(r.Context()).name)
	server.WriteJSON(w, http.StatusOK, map[string]any{"replayed": map[string]string{"topic": topic, "id": id}})
}

// deadLetterFullOut is one dead letter in full, as GET
// /api/v1/deadletters/{topic}/{id} shows it: the list's fields and the
// message's payload, as JSON when it is JSON (outbox messages are), else
// base64.
type deadLetterFullOut struct {
	deadLetterOut
	Payload       json.RawMessage `json:"payload,omitempty"`
	PayloadBase64 string          `json:"payload_base64,omitempty"`
}

// getDeadLetter answers GET /api/v1/deadletters/{topic}/{id}: the newest
// dead letter with that id, payload included, so an operator can see what
// failed before replaying or discarding it.
func (a *API) getDeadLetter(w http.ResponseWriter, r *http.Request) {
	topic, id, ok := a.deadLetterPath(w, r)
	if !ok {
		return
	}
	dl, err := queue.FindDeadLetter(r.Context(), a.queue, topic, id)
	if errors.Is(err, queue.ErrNotFound) {
		server.WriteError(w, http.StatusNotFound, server.CodeNotFound, fmt.Sprintf("topic %s has no dead letter %s", topic, id))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("dead letters of %s: %w", topic, err))
		return
	}
	out := deadLetterFullOut{deadLetterOut: deadLetterOutOf(topic, dl)}
	if json.Valid(dl.Message.Payload) {
		out.Payload = dl.Message.Payload
	} else if len(dl.Message.Payload) > 0 {
		out.PayloadBase64 = base64.StdEncoding.EncodeToString(dl.Message.Payload)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"deadletter": out})
}

// discardDeadLetter answers DELETE /api/v1/deadletters/{topic}/{id}: the
// dead letter is deleted for good (a message no replay can fix), 204.
func (a *API) discardDeadLetter(w http.ResponseWriter, r *http.Request) {
	topic, id, ok := a.deadLetterPath(w, r)
	if !ok {
		return
	}
	err := a.queue.Discard(r.Context(), topic, id)
	if errors.Is(err, queue.ErrNotFound) {
		server.WriteError(w, http.StatusNotFound, server.CodeNotFound, fmt.Sprintf("topic %s has no dead letter %s", topic, id))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("discard %s of %s: %w", id, topic, err))
		return
	}
	a.log.Info("dead letter discarded", "topic", topic, "id", id, "by", principalOf(r.Context()).name)
	w.WriteHeader(http.StatusNoContent)
}

// deadLetterPath reads the topic and id of a dead letter's path; it has
// answered when the API has no queue or keeps no dead letters of the topic.
func (a *API) deadLetterPath(w http.ResponseWriter, r *http.Request) (topic, id string, ok bool) {
	if !a.hasQueue(w) {
		return "", "", false
	}
	topic, id = chi.URLParam(r, "topic"), chi.URLParam(r, "id")
	if !slices.Contains(a.topics, topic) {
		server.WriteError(w, http.StatusNotFound, server.CodeNotFound, fmt.Sprintf("no dead letters are kept for topic %q", topic))
		return "", "", false
	}
	return topic, id, true
}

// hasQueue answers 501 when the API was built without a queue.
func (a *API) hasQueue(w http.ResponseWriter) bool {
	if a.queue == nil {
		server.WriteError(w, http.StatusNotImplemented, CodeNotSupported, "dead letters are not served here: the API has no queue")
		return false
	}
	return true
}
