package bot

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cardflow/flows"
)

// Actions is the Inbound every platform hands its decoded clicks and
// messages to: a click runs the button's engine action as the signed user,
// a message goes to the command router.
type Actions struct {
	engine *flows.Engine
	store  Store
	locks  *CardLocks
	dir    Directory
	render Renderer
	router *Router
	// started is told the instances a card's start button starts.
	started func(ctx context.Context, c Click, res flows.Result) error
	log     *slog.Logger
	now     func() time.Time
}

// ActionsDeps are what Actions works with.
type ActionsDeps struct {
	Engine *flows.Engine
	// Store, when set, records the card a click's answer shows (see
	// Click.MessageID); Locks, shared with the pipeline, keep its delivery
	// of the same decision from overtaking the record.
	Store     Store
	Locks     *CardLocks
	Directory Directory
	Render    Renderer
	Router    *Router
	// Started, when set, is told every instance a card's start button
	// started, with the click (whose Values carry what the button fixed,
	// such as the order a card was about), also when a retried click finds
	// the instance started. Its error is logged: the start stands.
	Started func(ctx context.Context, c Click, res flows.Result) error
	Logger  *slog.Logger
	Now     func() time.Time
}

// NewActions returns the Inbound of deps.
func NewActions(d ActionsDeps) *Actions {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Actions{engine: d.Engine, store: d.Store, locks: d.Locks, dir: d.Directory, render: d.Render, router: d.Router,
		started: d.Started, log: d.Logger, now: d.Now}
}

var _ Inbound = (*Actions)(nil)

// Click runs the clicked button's action. The acting user is the one the
// platform signed, mapped through the org directory's platform ids; the
// payload says only which task (or instance) and which card version. The
// platform's event id is the engine's idempotency key, so a retried
// callback changes nothing and is answered alike. Refusals are toasts,
// never errors: an error return means the platform should retry.
func (a *Actions) Click(ctx context.Context, c Click) (ClickReply, error) {
	user, err := a.dir.UserByPlatformID(ctx, c.Platform, c.PlatformUserID)
	if errors.Is(err, flows.ErrNotFound) {
		return toastOnly(ToastError, LocaleZH, "你不在组织通讯录中，无法处理，请联系管理员",
			"You are not in the org directory; ask an administrator"), nil
	} else if err != nil {
		return ClickReply{}, fmt.Errorf("bot: click by %s user %s: %w", c.Platform, c.PlatformUserID, err)
	}
	r := readerOf(user, c.PlatformUserID)
	if strings.HasPrefix(c.Payload, batchMark) {
		return a.batch(ctx, c, r, user.ID)
	}
	p, err := ParsePayload(c.Payload)
	if err != nil || c.EventID == "" {
		return toastOnly(ToastError, r.Locale, "这张卡片无法识别，请在待办中重新打开", "This card cannot be read; open it again from /todo"), nil
	}
	act, err := clickAction(c, p, user.ID, a.now())
	if err != nil {
		return a.refused(ctx, r, p, err)
	}
	if subject := cmp.Or(p.TaskID, p.InstanceID); a.locks != nil && a.store != nil && c.MessageID != "" && subject != "" {
		unlock, err := a.locks.l.lock(ctx, CardKey{Platform: c.Platform, Recipient: user.ID, Subject: subject})
		if err != nil {
			return ClickReply{}, fmt.Errorf("bot: click: %w", err)
		}
		defer unlock()
	}
	res, err := a.engine.Act(ctx, act)
	if err == nil && act.Kind == flows.ActStart && res.InstanceID != "" && a.started != nil {
		if serr := a.started(ctx, c, res); serr != nil {
			a.log.Warn("a started instance was not recorded where its card came from", "instance", res.InstanceID, "err", serr)
		}
	}
	switch {
	case err != nil:
		return a.refused(ctx, r, p, err)
	case res.AlreadyDecided:
		card, cerr := a.current(ctx, r, p)
		if cerr != nil {
			return ClickReply{}, cerr
		}
		return ClickReply{Card: card, Toast: Toast{Kind: ToastInfo, Text: a.alreadyText(ctx, r, res)}}, nil
	}
	if act.Kind == flows.ActStart {
		// The form card becomes the new request's card.
		p = Payload{InstanceID: res.InstanceID}
	}
	// The answer shows the state this click committed, or a later one.
	card, err := a.current(flows.ViewAtLeast(ctx, res.Version), r, p)
	if err != nil {
		return ClickReply{}, err
	}
	a.answered(ctx, c, user.ID, card)
	return ClickReply{Card: card, Toast: Toast{Kind: ToastSuccess, Text: doneText(r.Locale, act.Kind)}}, nil
}

// answered records that the clicked message now shows card, when the
// platform's answer replaces it and the message is the one recorded for
// the card: the pipeline, delivering the same state, then finds it shown
// and sends nothing. Failing to record costs only that update.
func (a *Actions) answered(ctx context.Context, c Click, userID string, card *Card) {
	if a.store == nil || c.MessageID == "" || card == nil {
		return
	}
	key := CardKey{Platform: c.Platform, Recipient: userID, Subject: card.Subject}
	old, err := a.store.Card(ctx, key)
	if err != nil || old.MessageID != c.MessageID || old.StateVersion > card.Version {
		return
	}
	rec := old
	rec.StateVersion, rec.Digest, rec.UpdatedAt = card.Version, card.Digest(), a.now()
	if _, err := a.store.PutCard(ctx, rec); err != nil {
		a.log.Warn("answered card not recorded; the pipeline will update it again", "card", key.String(), "err", err)
	}
}

// clickKey is the engine's idempotency key of a click: its event, so that
// a retried callback changes nothing. A start button on a card message
// starts one request for its clicker however often it is clicked (a double
// click is two events): its key is the message and the clicker, and a
// second click finds the request the first one started.
func clickKey(c Click, actor string) string {
	if c.Action != flows.ActStart || c.MessageID == "" {
		return c.Platform + ":" + c.EventID
	}
	sum := sha256.Sum256([]byte(c.MessageID + "\x00" + actor))
	return c.Platform + ":form:" + hex.EncodeToString(sum[:12])
}

// clickAction builds the engine action of a click: the comment box is the
// comment; the other inputs are the task's result form.
func clickAction(c Click, p Payload, actor string, now time.Time) (flows.Action, error) {
	act := flows.Action{Kind: c.Action, Actor: actor, Key: clickKey(c, actor),
		TaskID: p.TaskID, InstanceID: p.InstanceID, FlowID: p.FlowID, Comment: strings.TrimSpace(c.Values[InputComment])}
	if c.Action != flows.ActComment && c.Action != flows.ActUrge {
		// A decision is taken on what the card showed; a comment or a
		// reminder to act may come from any copy.
		act.Seen = p.Version
	}
	switch {
	case p.TaskID != "" && !c.Action.OnTask(), p.InstanceID != "" && !c.Action.OnInstance(),
		p.FlowID != "" && !c.Action.OnFlow(), p.FlowID == "" && c.Action.OnFlow():
		return act, fmt.Errorf("%q on this card: %w", c.Action, flows.ErrUnknownAction)
	}
	if c.Action == flows.ActStart {
		// A start form's inputs are the flow's form; it has no comment.
		act.Form, act.Comment = map[string]any{}, ""
		for k, v := range c.Values {
			if !strings.HasPrefix(k, "_") && strings.TrimSpace(v) != "" {
				act.Form[k] = v
			}
		}
		return act, nil
	}
	act.To = strings.TrimSpace(c.Values[ValueReturnTo])
	for k, v := range c.Values {
		if k == InputComment || strings.HasPrefix(k, "_") || strings.TrimSpace(v) == "" {
			continue // the comment, and values the button fixed rather than the reader
		}
		if key, ok := strings.CutPrefix(k, InputEdit); ok {
			// A platform may send a form's every box with any of its
			// buttons: only 同意 and 办理 change the form.
			if c.Action == flows.ActApprove || c.Action == flows.ActComplete {
				if act.Edits == nil {
					act.Edits = map[string]any{}
				}
				act.Edits[key] = v
			}
			continue
		}
		if act.Result == nil {
			act.Result = map[string]any{}
		}
		act.Result[k] = v
	}
	if c.Action == flows.ActSnooze {
		// A card's snooze button puts the alert off for as long as it
		// says, an hour when it says nothing.
		d, err := flows.ParseDuration(c.Values[ValueSnoozeFor])
		if err != nil || d <= 0 || d > 7*24*time.Hour {
			d = time.Hour
		}
		act.Until, act.Result = now.Add(d), nil
	}
	return act, nil
}

// refused answers a click the engine refused: a toast in the reader's
// language and the card as it stands, so a stale card refreshes.
func (a *Actions) refused(ctx context.Context, r Reader, p Payload, err error) (ClickReply, error) {
	info, known := flows.Describe(err)
	if !known || errors.Is(err, flows.ErrUnavailable) {
		a.log.Error("click failed", "err", err, "user", r.UserID)
	}
	if errors.Is(err, flows.ErrUnavailable) {
		return ClickReply{}, err // let the platform retry
	}
	text := info.Text(string(r.Locale))
	switch {
	case errors.Is(err, flows.ErrKeyReused) && p.FlowID != "":
		text = translator(r.Locale).s(mFormSubmitted) // its key is the form's message
	case errors.Is(err, flows.ErrKeyReused):
		// Only the platform, or whoever holds its keys, mints event ids.
		a.log.Warn("click refused: its event id came before with another request", "user", r.UserID, "err", err)
	}
	if fe, ok := errors.AsType[*flows.FormError](err); ok {
		sep := "："
		if r.Locale == LocaleEN {
			sep = ": "
		}
		text += sep + problems(r, fe)
	}
	card, cerr := a.current(ctx, r, p)
	if cerr != nil && !errors.Is(cerr, flows.ErrNotParticipant) && !errors.Is(cerr, flows.ErrNotFound) {
		return ClickReply{}, cerr
	}
	return ClickReply{Card: card, Toast: Toast{Kind: ToastError, Text: text}}, nil
}

// current renders the clicked card as it stands now for the reader.
func (a *Actions) current(ctx context.Context, r Reader, p Payload) (*Card, error) {
	var (
		c   Card
		err error
	)
	if p.FlowID != "" {
		return nil, nil // a start form that was refused stays as it is
	}
	if p.TaskID != "" {
		c, err = a.render.TaskCard(ctx, r, p.TaskID, nil)
		c.Subject = p.TaskID
	} else {
		c, err = a.render.InstanceCard(ctx, r, p.InstanceID, nil)
		c.Subject = p.InstanceID
	}
	if err != nil {
		if errors.Is(err, flows.ErrNotParticipant) || errors.Is(err, flows.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("bot: render clicked card: %w", err)
	}
	return &c, nil
}

// alreadyText says who decided a task before this click, and when:
// 已由 钱多多 于 10:42 同意.
func (a *Actions) alreadyText(ctx context.Context, r Reader, res flows.Result) string {
	name := res.By
	if u, err := a.dir.User(ctx, res.By); err == nil && u.Name != "" {
		name = u.Name
	}
	at := res.At.In(r.Zone).Format("15:04")
	if r.Locale == LocaleEN {
		return fmt.Sprintf("Already %s by %s at %s", outcomeWord(LocaleEN, res.Outcome), name, at)
	}
	return fmt.Sprintf("已由 %s 于 %s %s", name, at, outcomeWord(LocaleZH, res.Outcome))
}

func toastOnly(kind ToastKind, l Locale, zh, en string) ClickReply {
	if l == LocaleEN {
		return ClickReply{Toast: Toast{Kind: kind, Text: en}}
	}
	return ClickReply{Toast: Toast{Kind: kind, Text: zh}}
}

// outcomeWord names a recorded outcome: approve → 同意 / approved.
func outcomeWord(l Locale, outcome string) string {
	words := map[string][2]string{
		"approve": {"同意", "approved"}, "reject": {"拒绝", "rejected"}, "done": {"完成", "completed"},
		"return": {"退回", "returned"}, "transfer": {"转交", "transferred"}, "escalate": {"转交（超时）", "escalated"},
		"withdraw": {"撤回", "withdrawn"}, "cancel": {"作废", "cancelled"}, "resubmit": {"重新提交", "resubmitted"},
		"acknowledge": {"认领", "acknowledged"}, "resolve": {"解决", "resolved"}, "remove_signer": {"减签", "removed"},
		"start": {"提交", "submitted"},
	}
	w, ok := words[outcome]
	if !ok {
		return outcome
	}
	if l == LocaleEN {
		return w[1]
	}
	return w[0]
}

// doneText is the toast after an action went through.
func doneText(l Locale, k flows.ActionKind) string {
	if l == LocaleEN {
		return "Done: " + outcomeWord(l, string(k))
	}
	switch k {
	case flows.ActComplete:
		return "已完成"
	case flows.ActUrge:
		return "已催办"
	case flows.ActComment:
		return "已评论"
	case flows.ActSnooze:
		return "已暂停提醒"
	case flows.ActStart:
		return "已提交"
	}
	return "已" + outcomeWord(l, string(k))
}

// Message hands a message to the command router.
func (a *Actions) Message(ctx context.Context, m Message) ([]Card, error) {
	user, err := a.dir.UserByPlatformID(ctx, m.Platform, m.PlatformUserID)
	if errors.Is(err, flows.ErrNotFound) {
		return []Card{{Subject: "unknown-user", Status: StatusInfo, Title: "你不在组织通讯录中",
			Text: "请联系管理员把你的账号加入通讯录后再试。"}}, nil
	} else if err != nil {
		return nil, fmt.Errorf("bot: message from %s user %s: %w", m.Platform, m.PlatformUserID, err)
	}
	if a.router == nil {
		return nil, errors.New("bot: no command router")
	}
	return a.router.Handle(ctx, Request{Reader: readerOf(user, m.PlatformUserID), Message: m})
}

// problemWords say what is wrong with a field, by FieldProblem code, in
// the reader's language; the engine's own messages are for integrators.
var problemWords = map[string][2]string{
	flows.CodeRequired: {"必填", "is required"}, flows.CodeUnknown: {"不是表单中的字段", "is not a field of this form"},
	flows.CodeType: {"类型不对", "has the wrong kind of value"}, flows.CodeFormat: {"格式不对", "is not written right"},
	flows.CodePrecision: {"最多两位小数", "takes at most 2 decimals"}, flows.CodeMin: {"太小", "is too small"},
	flows.CodeMax: {"太大", "is too large"}, flows.CodeMaxLength: {"太长", "is too long"},
	flows.CodePattern: {"格式不对", "is not written right"}, flows.CodeOption: {"不是可选的值", "is not one of the choices"},
	flows.CodeMaxRows: {"行数太多", "has too many rows"}, flows.CodeReadOnly: {"不能修改", "may not be changed"},
	flows.CodeUnknownUser: {"不是通讯录中的人", "is nobody in the directory"},
}

// limitText says the bound a problem broke, in the given shape: the
// field's help for a pattern, most for a maximum, least for a minimum.
func limitText(pr flows.FieldProblem, help, most, least string) string {
	switch {
	case pr.Limit == "":
		return ""
	case pr.Code == flows.CodePattern:
		return fmt.Sprintf(help, pr.Limit)
	case pr.Code == flows.CodeMin:
		return fmt.Sprintf(least, pr.Limit)
	}
	return fmt.Sprintf(most, pr.Limit)
}

// problems lists a form's bad fields by the labels the card shows.
// Problems says what is wrong with a form, field by field, as a card's
// toast does: in l's language, each field by its label (运单号必填；退款金额
// 太小（最少 0）), a broken rule in its own words.
func Problems(l Locale, fe *flows.FormError) string { return problems(Reader{Locale: l}, fe) }

func problems(r Reader, fe *flows.FormError) string {
	var parts []string
	for _, pr := range fe.Problems {
		name := cmp.Or(pr.Label, pr.Field)
		if r.Locale == LocaleEN {
			name = cmp.Or(pr.LabelEN, name)
		}
		w, ok := problemWords[pr.Code]
		switch {
		case pr.Code == flows.CodeRule && r.Locale == LocaleEN:
			parts = append(parts, cmp.Or(pr.SaysEN, pr.Says))
		case pr.Code == flows.CodeRule:
			parts = append(parts, pr.Says)
		case !ok:
			parts = append(parts, name+": "+pr.Message)
		case r.Locale == LocaleEN:
			parts = append(parts, name+" "+w[1]+limitText(pr, " (%s)", " (at most %s)", " (at least %s)"))
		default:
			parts = append(parts, name+w[0]+limitText(pr, "（%s）", "（最多 %s）", "（最少 %s）"))
		}
	}
	sep := "；"
	if r.Locale == LocaleEN {
		sep = "; "
	}
	return strings.Join(parts, sep)
}
