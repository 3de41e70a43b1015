package sim

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strings"

	"cardflow/bot"
	"cardflow/flows"
)

// Limits on what a request may carry.
const (
	maxIDChars    = 200 // sim ids, chat ids, flow ids, message ids
	maxTextChars  = 2000
	maxValues     = 32
	maxValueChars = flows.DefaultTextLength
)

// userJSON is one person of GET /api/users.
type userJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Department     string   `json:"department"`
	DepartmentName string   `json:"department_name"`
	Roles          []string `json:"roles"`
	// SimID is "" for a person without a sim id: they cannot be picked.
	SimID  string `json:"sim_id"`
	Unread int    `json:"unread"`
}

type chatJSON struct {
	Chat
	Unread int `json:"unread"`
}

func (p *Platform) users(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := p.deps.Users(ctx)
	if err != nil {
		p.failErr(w, r, "list users", err)
		return
	}
	depts := map[string]string{}
	out := make([]userJSON, 0, len(list))
	for _, u := range list {
		name, ok := depts[u.Department]
		if !ok && u.Department != "" {
			d, err := p.deps.Store.Department(ctx, u.Department)
			switch {
			case err == nil:
				name = d.Name
			case !errors.Is(err, flows.ErrNotFound):
				p.failErr(w, r, "read department", err)
				return
			}
			depts[u.Department] = name
		}
		out = append(out, userJSON{ID: u.ID, Name: u.Name, Department: u.Department,
			DepartmentName: cmp.Or(name, u.Department), Roles: append([]string{}, u.Roles...), SimID: u.PlatformIDs[Name]})
	}
	p.mu.Lock()
	for i := range out {
		if out[i].SimID != "" {
			out[i].Unread = p.unread(userPrefix + out[i].SimID)
		}
	}
	chats := make([]chatJSON, len(p.chats))
	for i, c := range p.chats {
		chats[i] = chatJSON{Chat: Chat{ID: c.ID, Name: cmp.Or(c.Name, c.ID)}, Unread: p.unread(chatPrefix + c.ID)}
	}
	rev := p.rev
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "chats": chats, "rev": rev})
}

// person returns the org user whose sim id is simID. On failure it has
// answered: 400 for an unusable id, 404 for nobody.
func (p *Platform) person(w http.ResponseWriter, r *http.Request, simID string) (flows.User, bool) {
	if m, args := checkText("user", simID, maxIDChars, true); m != nil {
		p.fail(w, r, http.StatusBadRequest, "invalid_input", *m, args...)
		return flows.User{}, false
	}
	u, err := p.deps.Store.UserByPlatformID(r.Context(), Name, simID)
	if errors.Is(err, flows.ErrNotFound) {
		p.fail(w, r, http.StatusNotFound, "unknown_user", msgUnknownUser, simID)
		return flows.User{}, false
	}
	if err != nil {
		p.failErr(w, r, "look up user", err)
		return flows.User{}, false
	}
	return u, true
}

// target returns the inbox a request names by exactly one of user (a sim
// id) and chat. On failure it has answered.
func (p *Platform) target(w http.ResponseWriter, r *http.Request, user, chat string) (string, bool) {
	switch {
	case (user == "") == (chat == ""):
		p.fail(w, r, http.StatusBadRequest, "bad_request", msgWhich)
		return "", false
	case user != "":
		_, ok := p.person(w, r, user)
		return userPrefix + user, ok
	}
	if m, args := checkText("chat", chat, maxIDChars, true); m != nil {
		p.fail(w, r, http.StatusBadRequest, "invalid_input", *m, args...)
		return "", false
	}
	p.mu.Lock()
	known := p.knownChat(chat)
	p.mu.Unlock()
	if !known {
		p.fail(w, r, http.StatusNotFound, "unknown_chat", msgUnknownChat, chat)
		return "", false
	}
	return chatPrefix + chat, true
}

func (p *Platform) inbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key, ok := p.target(w, r, q.Get("user"), q.Get("chat"))
	if !ok {
		return
	}
	p.mu.Lock()
	msgs := p.messages(key, 0)
	rev := p.rev
	p.mu.Unlock()
	if msgs == nil {
		msgs = []Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"inbox": key, "rev": rev, "limit": p.cfg.InboxSize, "messages": msgs})
}

// inboxRequest names an inbox in a body.
type inboxRequest struct {
	User string `json:"user"`
	Chat string `json:"chat"`
}

func (p *Platform) read(w http.ResponseWriter, r *http.Request) {
	var req inboxRequest
	if !p.decode(w, r, &req) {
		return
	}
	key, ok := p.target(w, r, req.User, req.Chat)
	if !ok {
		return
	}
	p.mu.Lock()
	p.markRead(key)
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"inbox": key, "unread": 0})
}

// clickRequest is the body of POST /api/click: who clicked which button
// of which message, with the card's inputs.
type clickRequest struct {
	User      string            `json:"user"`
	MessageID string            `json:"message_id"`
	Payload   string            `json:"payload"`
	Action    flows.ActionKind  `json:"action"`
	Values    map[string]string `json:"values"`
}

func (p *Platform) click(w http.ResponseWriter, r *http.Request) {
	var req clickRequest
	if !p.decode(w, r, &req) {
		return
	}
	u, ok := p.person(w, r, req.User)
	if !ok {
		return
	}
	if r = asPerson(r, u); !p.checkClick(w, r, req) {
		return
	}
	reply, err := p.deps.Inbound.Click(r.Context(), bot.Click{Platform: Name, EventID: newEventID(),
		PlatformUserID: req.User, Payload: req.Payload, Action: req.Action, Values: req.Values, MessageID: req.MessageID})
	if err != nil {
		p.failErr(w, r, "click", err)
		return
	}
	out := map[string]any{"reply": reply}
	if reply.Card != nil && req.MessageID != "" {
		// As on Feishu, the answer to a click replaces the clicked card, in
		// the clicker's own conversation or a group chat.
		p.mu.Lock()
		if key, ok := p.locate(req.MessageID); ok && (key == userPrefix+req.User || strings.HasPrefix(key, chatPrefix)) &&
			p.replaceCard(key, req.MessageID, *reply.Card) {
			out["message"] = *p.inboxes[key].byID[req.MessageID]
		}
		p.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, out)
}

func (p *Platform) checkClick(w http.ResponseWriter, r *http.Request, req clickRequest) bool {
	bad := func(m *msg, args []any) bool {
		if m == nil {
			return false
		}
		p.fail(w, r, http.StatusBadRequest, "invalid_input", *m, args...)
		return true
	}
	if m, args := checkText("message_id", req.MessageID, maxIDChars, false); bad(m, args) {
		return false
	}
	if _, err := bot.ParsePayload(req.Payload); err != nil {
		p.fail(w, r, http.StatusBadRequest, "invalid_input", msgBadPayload)
		return false
	}
	if !req.Action.OnTask() && !req.Action.OnInstance() && !req.Action.OnFlow() {
		p.fail(w, r, http.StatusBadRequest, "unknown_action", msgBadAction, string(req.Action))
		return false
	}
	if len(req.Values) > maxValues {
		p.fail(w, r, http.StatusBadRequest, "invalid_input", msgTooLong, "values", maxValues)
		return false
	}
	for k, v := range req.Values {
		if m, args := checkText("values", k, 64, true); bad(m, args) {
			return false
		}
		if m, args := checkText(k, v, maxValueChars, false); bad(m, args) {
			return false
		}
	}
	return true
}

// messageRequest is the body of POST /api/message: what a person typed,
// to the bot or in a group chat.
type messageRequest struct {
	User string `json:"user"`
	Chat string `json:"chat"`
	Text string `json:"text"`
}

func (p *Platform) message(w http.ResponseWriter, r *http.Request) {
	var req messageRequest
	if !p.decode(w, r, &req) {
		return
	}
	u, ok := p.person(w, r, req.User)
	if !ok {
		return
	}
	r = asPerson(r, u)
	if m, args := checkText("text", req.Text, maxTextChars, true); m != nil {
		p.fail(w, r, http.StatusBadRequest, "invalid_input", *m, args...)
		return
	}
	key := userPrefix + req.User
	if req.Chat != "" {
		if key, _ = p.target(w, r, "", req.Chat); key == "" {
			return
		}
	}
	at := p.now()
	p.mu.Lock()
	id := p.put(key, "", Message{Kind: KindText, Text: req.Text, From: req.User, SentAt: at, UpdatedAt: at})
	said := *p.inboxes[key].byID[id]
	p.mu.Unlock()

	cards, err := p.deps.Inbound.Message(r.Context(), bot.Message{Platform: Name, EventID: newEventID(),
		PlatformUserID: req.User, ChatID: req.Chat, Text: req.Text})
	if err != nil {
		p.failErr(w, r, "message", err)
		return
	}
	replies := make([]Message, 0, len(cards))
	p.mu.Lock()
	for _, c := range cards {
		at := p.now()
		id := p.put(key, "", Message{Kind: KindReply, Card: cloneCard(c), SentAt: at, UpdatedAt: at})
		replies = append(replies, *p.inboxes[key].byID[id])
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"inbox": key, "said": said, "replies": replies})
}

// newEventID is the id of one request of the page, standing in for a
// platform's callback event id: each click and message is a new event.
func newEventID() string { return randomHex(16) }

// failErr answers an error of a dependency: a bad form with its fields,
// invalid input with its reason, an unreachable store with 503, anything
// else with 500 and a log line.
func (p *Platform) failErr(w http.ResponseWriter, r *http.Request, op string, err error) {
	if fe, ok := errors.AsType[*flows.FormError](err); ok {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: errorDetail{Code: "invalid_form",
			Message: msgInvalidForm.in(lang(r), len(fe.Problems)), Fields: fe.Problems}})
		return
	}
	switch {
	case errors.Is(err, flows.ErrInvalidInput), errors.Is(err, bot.ErrInvalid):
		// The field people typed into, not the error's chain of packages.
		p.log.Info("sim: input refused", "op", op, "err", err)
		if ie, ok := errors.AsType[*flows.InputError](err); ok {
			p.fail(w, r, http.StatusBadRequest, "invalid_input", msgCannotSave, strings.TrimPrefix(ie.Field, "form."))
			return
		}
		p.fail(w, r, http.StatusBadRequest, "invalid_input", msgInputCannotSave)
	case errors.Is(err, flows.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		p.fail(w, r, http.StatusServiceUnavailable, "unavailable", msgUnavailable)
	case errors.Is(err, context.Canceled):
		// The page went away: nothing is wrong, and nobody reads this.
		p.fail(w, r, http.StatusServiceUnavailable, "unavailable", msgUnavailable)
	default:
		p.log.Error("sim: request failed", "op", op, "err", err, "route", r.URL.Path)
		p.fail(w, r, http.StatusInternalServerError, "internal", msgInternal)
	}
}
