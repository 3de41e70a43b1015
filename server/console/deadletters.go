package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"cardflow/queue"
)

// deadLetterPage is how many dead letters of each topic are listed.
const deadLetterPage = 100

type deadLetterRow struct {
	queue.DeadLetter
	Topic string
}

type deadLettersData struct {
	Rows []deadLetterRow
}

func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request) {
	var d deadLettersData
	if c.d.Queue != nil {
		for _, t := range c.d.Topics {
			dls, err := c.d.Queue.DeadLetters(r.Context(), t, deadLetterPage)
			if err != nil {
				c.fail(w, r, err)
				return
			}
			for _, dl := range dls {
				d.Rows = append(d.Rows, deadLetterRow{DeadLetter: dl, Topic: t})
			}
		}
	}
	slices.SortStableFunc(d.Rows, func(a, b deadLetterRow) int { return b.FailedAt.Compare(a.FailedAt) })
	c.render(w, r, http.StatusOK, "deadletters", "deadletters", d)
}

type deadLetterData struct {
	deadLetterRow
	Payload string
}

// find returns the dead letter id of topic, if the console keeps topic's.
func (c *Console) find(r *http.Request, topic, id string) (queue.DeadLetter, error) {
	if c.d.Queue == nil || !slices.Contains(c.d.Topics, topic) {
		return queue.DeadLetter{}, queue.ErrNotFound
	}
	return queue.FindDeadLetter(r.Context(), c.d.Queue, topic, id)
}

func (c *Console) deadLetter(w http.ResponseWriter, r *http.Request) {
	topic, id := param(r.URL.Query(), "topic"), param(r.URL.Query(), "id")
	dl, err := c.find(r, topic, id)
	if errors.Is(err, queue.ErrNotFound) {
		c.plainError(w, r, http.StatusNotFound, "err.notfound")
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	d := deadLetterData{deadLetterRow: deadLetterRow{DeadLetter: dl, Topic: topic}, Payload: string(dl.Message.Payload)}
	var b bytes.Buffer
	if json.Indent(&b, dl.Message.Payload, "", "  ") == nil {
		d.Payload = b.String()
	}
	c.render(w, r, http.StatusOK, "deadletter", "deadletters", d)
}

func (c *Console) replay(w http.ResponseWriter, r *http.Request) {
	c.deadLetterAction(w, r, "replayed", queue.Queue.Replay, "err.notfound", "dl.replayed")
}

// discard deletes a dead letter for good (one no replay can fix); the
// form that posts here is behind a confirm step on both dead-letter pages.
func (c *Console) discard(w http.ResponseWriter, r *http.Request) {
	c.deadLetterAction(w, r, "discarded", queue.Queue.Discard, "dl.gone", "dl.discarded")
}

// deadLetterAction applies act to the dead letter the form names (topic,
// id), logs who did it (done: "replayed", "discarded") and goes back to
// the list with okKey's flash, or goneKey's when the letter is gone.
func (c *Console) deadLetterAction(w http.ResponseWriter, r *http.Request, done string,
	act func(q queue.Queue, ctx context.Context, topic, id string) error, goneKey, okKey string) {
	topic, id := r.PostFormValue("topic"), r.PostFormValue("id")
	if c.d.Queue == nil || !slices.Contains(c.d.Topics, topic) {
		c.plainError(w, r, http.StatusNotFound, "err.notfound")
		return
	}
	err := act(c.d.Queue, r.Context(), topic, id)
	if errors.Is(err, queue.ErrNotFound) {
		c.flash(w, r, "error", tr(c.locale(r), goneKey))
		http.Redirect(w, r, prefix+"deadletters", http.StatusSeeOther)
		return
	}
	if err == nil {
		se := sessionOf(r.Context())
		c.log.Info("dead letter "+done, "topic", topic, "id", id, "by", se.Name, "acts_as", se.ActsAs)
	}
	c.done(w, r, prefix+"deadletters", okKey, err)
}
