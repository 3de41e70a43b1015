package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"cardflow/flows"
)

// UserLookup is where a CardRenderer finds people's display names;
// flows.Store is one.
type UserLookup interface {
	User(ctx context.Context, id string) (flows.User, error)
}

// RendererOptions are a CardRenderer's settings; the zero value works.
type RendererOptions struct {
	// ConsoleURL is the web console's base URL; a card links to
	// ConsoleURL/console/instances/<id> when it is set.
	ConsoleURL string
	// Now is the clock times are written against (today's times as 10:42,
	// older ones with their date); time.Now by default.
	Now func() time.Time
}

// CardRenderer builds the Card each notification intent and command answer is
// shown as, for one reader: it reads the instance as the reader may see it
// (flows.Engine.Instance), so a field hidden from the reader's step never
// reaches their card, and writes it in the reader's locale and time zone.
//
// A card always shows the current state: an intent says why the reader is
// told (a reminder, a transfer), the engine says where the instance
// stands. Rendering an old intent therefore gives the current card, with
// the current Version, which is what a card updated in place should show.
type CardRenderer struct {
	engine  *flows.Engine
	users   UserLookup
	console string
	now     func() time.Time
}

// NewCardRenderer returns a renderer reading instances from engine and names
// from users.
func NewCardRenderer(engine *flows.Engine, users UserLookup, opts RendererOptions) *CardRenderer {
	r := &CardRenderer{engine: engine, users: users, console: strings.TrimRight(opts.ConsoleURL, "/"), now: opts.Now}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Render builds the card an intent is shown as: the task's card for the
// intents about a reader's task (assigned, closed, reminded, alerts, and
// withdrawn or cancelled when they held a task), the instance's card for
// the applicant's and copied readers' intents (decision, returned,
// finished, cancelled, cc), and a notice for a comment.
func (r *CardRenderer) Render(ctx context.Context, reader Reader, n flows.NotificationIntent) (Card, error) {
	switch n.Kind {
	case flows.NotifyComment:
		return r.Notice(ctx, reader, n)
	case flows.NotifyDecision, flows.NotifyReturned, flows.NotifyFinished, flows.NotifyCC:
		return r.InstanceCard(ctx, reader, n.InstanceID, &n)
	}
	if n.TaskID != "" {
		return r.TaskCard(ctx, reader, n.TaskID, &n)
	}
	return r.InstanceCard(ctx, reader, n.InstanceID, &n)
}

// page is what one card is built from: the instance as its reader sees
// it, their locale and zone, and the names looked up so far.
type page struct {
	r      *CardRenderer
	ctx    context.Context
	reader Reader
	t      tr
	zone   *time.Location
	now    time.Time
	view   flows.InstanceView
	flow   *flows.Flow
	names  map[string]string
	err    error // the first failed name lookup other than not found
}

func (r *CardRenderer) open(ctx context.Context, reader Reader, instanceID string) (*page, error) {
	if reader.UserID == "" {
		return nil, fmt.Errorf("bot: render %s: %w: the reader has no user id", instanceID, ErrInvalid)
	}
	v, err := r.engine.Instance(ctx, reader.UserID, instanceID)
	if err != nil {
		return nil, fmt.Errorf("bot: render %s for %s: %w", instanceID, reader.UserID, err)
	}
	f, err := r.engine.Flow(ctx, v.Instance.FlowID, v.Instance.FlowVersion)
	if err != nil {
		return nil, fmt.Errorf("bot: render %s: %w", instanceID, err)
	}
	zone := reader.Zone
	if zone == nil {
		zone = shanghai
	}
	return &page{r: r, ctx: ctx, reader: reader, t: translator(reader.Locale), zone: zone, now: r.now(),
		view: v, flow: f, names: map[string]string{}}, nil
}

// done returns the card, or the error of a name lookup that failed for
// another reason than the user being unknown (a store outage): the card
// is rendered again later rather than sent with ids for names.
func (p *page) done(c Card) (Card, error) {
	if p.err != nil {
		return Card{}, fmt.Errorf("bot: render %s: %w", c.Subject, p.err)
	}
	return c, nil
}

// name is a user's display name; the id of a user the directory does not
// know (someone who left), 系统 for the engine.
func (p *page) name(id string) string {
	if id == flows.SystemActor {
		return p.t.s(mSystem)
	}
	if n, ok := p.names[id]; ok {
		return n
	}
	n := id
	u, err := p.r.users.User(p.ctx, id)
	switch {
	case err == nil && u.Name != "":
		n = u.Name
	case err != nil && !errors.Is(err, flows.ErrNotFound) && p.err == nil:
		p.err = err
	}
	p.names[id] = n
	return n
}

// nameList writes several users' names as a list.
func (p *page) nameList(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = p.name(id)
	}
	return p.t.list(out)
}

// actor is who did something, with whom they did it for as a proxy.
func (p *page) actor(by, onBehalfOf string) string {
	if onBehalfOf == "" || onBehalfOf == by {
		return p.name(by)
	}
	return p.t.s(mActingFor, p.name(by), p.name(onBehalfOf))
}

func (p *page) when(at time.Time) string { return p.t.when(at, p.now, p.zone) }

// quote appends a person's comment to a note: 钱多多 催办：「请尽快」.
func (p *page) quote(text, comment string) string {
	if comment == "" {
		return text
	}
	return p.t.s(mQuote, text, comment)
}

// base is the part every card about the instance shares: the title, the
// fields and tables the reader may see at step (their view's, less those
// step hides; "" for the view as it is), the version and the link.
func (p *page) base(subject, step string) Card {
	views := p.formView(step)
	c := Card{Subject: subject, InstanceID: p.view.Instance.ID, Version: p.view.Instance.Version,
		Title: p.title(views), Link: p.link()}
	c.Fields, c.Tables = p.fields(views)
	return c
}

func (p *page) link() string {
	if p.r.console == "" {
		return ""
	}
	return p.r.console + "/console/instances/" + url.PathEscape(p.view.Instance.ID)
}

// payload is a button's payload for a task, or for the instance when
// taskID is "".
func (p *page) payload(taskID string) string {
	if taskID == "" {
		return Payload{InstanceID: p.view.Instance.ID, Version: p.view.Instance.Version}.String()
	}
	return Payload{TaskID: taskID, Version: p.view.Instance.Version}.String()
}

// commentInput is the box for a comment, a reason or a message.
func (p *page) commentInput(label msg, hint string) Input {
	return Input{Name: InputComment, Label: p.t.s(label), Kind: InputText, Placeholder: hint}
}

// shanghai is where readers without a zone of their own read times:
// flows.DefaultTimeZone.
var shanghai = mustZone(flows.DefaultTimeZone)

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name) // flows builds the zone database in
	if err != nil {
		panic(err)
	}
	return z
}

// ReaderFor returns who u is as a reader on platform: their id there,
// their locale and their time zone, the defaults (Chinese, China time)
// where the org gives none or one this build does not know.
func ReaderFor(u flows.User, platform string) Reader {
	r := Reader{UserID: u.ID, PlatformUserID: u.PlatformIDs[platform], Name: u.Name, Locale: LocaleZH, Zone: shanghai}
	if u.Locale == string(LocaleEN) {
		r.Locale = LocaleEN
	}
	if u.TimeZone != "" {
		if z, ok := zoneNamed(u.TimeZone); ok {
			r.Zone = z
		}
	}
	return r
}

// zones holds the time zones readers were read in, by name: a reader is
// built for every card and click, and time.LoadLocation parses the zone
// database again on each call. Only zones that loaded are kept, so it
// holds at most the database's few hundred.
var zones sync.Map // name → *time.Location

func zoneNamed(name string) (*time.Location, bool) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), true
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zones.Store(name, z)
	return z, true
}
