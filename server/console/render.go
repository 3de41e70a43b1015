package console

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cardflow/bot"
	"cardflow/flows"
	web "cardflow/web/console"
)

// flashCookie carries a message across a POST's redirect (PRG).
const flashCookie = "cf_console_flash"

// pages are the parsed templates, one set per page, each with the layout.
type pages struct {
	set map[string]*template.Template
}

// pageNames are the templates under templates/, each a page.
var pageNames = []string{"login", "dashboard", "instances", "instance", "tasks", "flows", "flow",
	"alerts", "deadletters", "deadletter", "org", "analytics", "retention", "error"}

func loadPages() (*pages, error) {
	p := &pages{set: map[string]*template.Template{}}
	funcs := template.FuncMap{"add": func(a, b int) int { return a + b },
		"figs": func(v view, rows []figuresView, kind string) figuresTable {
			return figuresTable{V: v, Rows: rows, Kind: kind}
		}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(web.Files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		p.set[name] = t
	}
	return p, nil
}

// staticFiles serves the CSS, the script and the icons.
func staticFiles() http.Handler {
	sub, err := fs.Sub(web.Files, "static")
	if err != nil {
		panic(err) // the embedded folder exists: a build without it fails the tests
	}
	files := http.StripPrefix(prefix+"static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // files, not a listing of them
			return
		}
		files.ServeHTTP(w, r)
	})
}

// view is what every page template gets: its data, and how to say things
// to the reader.
type view struct {
	L       string // locale
	Page    string
	Session session
	CSRF    string
	Actor   string // the acting user's name
	SimURL  string
	Here    string // this page's path and query, for the language switch
	Flash   *flash
	Data    any
	zone    *time.Location
}

// T translates a key.
func (v view) T(key string, args ...any) string { return tr(v.L, key, args...) }

// OtherLang is the language the switch leads to.
func (v view) OtherLang() string {
	if v.L == localeEN {
		return localeZH
	}
	return localeEN
}

// LangURL switches the language and comes back here.
func (v view) LangURL() string {
	return prefix + "lang?to=" + url.QueryEscape(v.OtherLang()) + "&back=" + url.QueryEscape(v.Here)
}

// Time shows t in the reader's zone; the zero time as "—".
func (v view) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(v.zone).Format("2006-01-02 15:04")
}

// Status names an instance status.
func (v view) Status(s flows.InstanceStatus) string { return v.T("status." + string(s)) }

// Topic names a queue topic in the reader's words.
func (v view) Topic(topic string) string { return v.T("topic." + topic) }

// Platform names a chat platform in the reader's words; one the
// catalogue lacks shows as configured.
func (v view) Platform(name string) string { return platformName(v.L, name) }

func platformName(l, name string) string {
	if s, ok := catalogue[l]["platform."+name]; ok {
		return s
	}
	return name
}

// Action names an audit action; one the catalogue lacks shows as it is.
func (v view) Action(a string) string {
	if s, ok := catalogue[v.L]["act."+a]; ok {
		return s
	}
	return a
}

// flash is a message shown once, after a redirect.
type flash struct {
	Kind string `json:"k"` // ok or error
	Text string `json:"t"`
}

func (c *Console) flash(w http.ResponseWriter, r *http.Request, kind, text string) {
	b, _ := json.Marshal(flash{Kind: kind, Text: text})
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: prefix,
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.cfg.Secure || r.TLS != nil})
}

func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: prefix, MaxAge: -1})
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	var f flash
	if err != nil || json.Unmarshal(b, &f) != nil || f.Text == "" {
		return nil
	}
	return &f
}

// render writes page with data, in the layout.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page, nav string, data any) {
	se := sessionOf(r.Context())
	actor := c.actor(r)
	v := view{L: localeOf(r, se.Locale), Page: nav, Session: se, SimURL: c.d.SimURL, Here: r.URL.RequestURI(),
		Flash: c.takeFlash(w, r), Data: data, zone: bot.ReaderFor(actor, "").Zone}
	if se.ID != "" {
		v.CSRF = c.ses.csrf(se)
		v.Actor = se.ActsAs
		if actor.Name != "" {
			v.Actor = actor.Name + " (" + se.ActsAs + ")"
		}
	}
	var b bytes.Buffer
	if err := c.pages.set[page].ExecuteTemplate(&b, "layout", v); err != nil {
		c.log.Error("console: render", "page", page, "err", err)
		http.Error(w, tr(v.L, "err.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// plainError answers with the error page.
func (c *Console) plainError(w http.ResponseWriter, r *http.Request, status int, key string) {
	c.render(w, r, status, "error", "", tr(c.locale(r), key))
}

// fail answers a failed read: not found, or a logged internal error.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	if info, known := flows.Describe(err); known {
		status := http.StatusBadRequest
		switch {
		case info.Code == "not_found":
			status = http.StatusNotFound
		case errors.Is(err, flows.ErrNotParticipant):
			status = http.StatusForbidden
		}
		c.render(w, r, status, "error", "", info.Text(c.locale(r)))
		return
	}
	c.log.Error("console: request failed", "path", r.URL.Path, "err", err)
	c.plainError(w, r, http.StatusInternalServerError, "err.internal")
}

// done redirects after a POST with the outcome as a flash: okKey's text,
// or what the engine says of err in the reader's language.
func (c *Console) done(w http.ResponseWriter, r *http.Request, back, okKey string, err error) {
	l := c.locale(r)
	switch info, known := flows.Describe(err); {
	case err == nil:
		c.flash(w, r, "ok", tr(l, okKey))
	case known:
		c.flash(w, r, "error", info.Text(l))
	default:
		c.log.Error("console: action failed", "path", r.URL.Path, "err", err)
		c.flash(w, r, "error", tr(l, "err.internal"))
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (c *Console) locale(r *http.Request) string { return localeOf(r, sessionOf(r.Context()).Locale) }

// definitions lists the flows' latest versions with their names in the
// reader's language.
func (c *Console) definitions(r *http.Request) ([]flows.Definition, error) {
	defs, err := c.d.Engine.Definitions(r.Context())
	if err != nil {
		return nil, err
	}
	c.nameDefinitions(r, defs)
	return defs, nil
}

// nameDefinitions writes each definition's name in the reader's language
// (a flow's name_en for an English reader).
func (c *Console) nameDefinitions(r *http.Request, defs []flows.Definition) {
	if !c.en(r) {
		return
	}
	for i, d := range defs {
		if f, err := c.d.Engine.Flow(r.Context(), d.FlowID, d.Version); err == nil {
			defs[i].Name = f.NameIn(true)
		}
	}
}

// en reports a reader of the English console: flows' own words (names,
// labels, titles) are then shown in English where the flow has them.
func (c *Console) en(r *http.Request) bool { return c.locale(r) == localeEN }

// actor is the org user the session acts as; the zero User when there is
// no session or the directory does not know them.
func (c *Console) actor(r *http.Request) flows.User {
	if id := sessionOf(r.Context()).ActsAs; id != "" {
		if u, err := c.d.Engine.User(r.Context(), id); err == nil {
			return u
		}
	}
	return flows.User{}
}

// zone is the acting user's time zone; China time when unknown.
func (c *Console) zone(r *http.Request) *time.Location { return bot.ReaderFor(c.actor(r), "").Zone }

// userName is a user's name and id, or the id alone when unknown.
func (c *Console) userName(r *http.Request, id string) string {
	if u, err := c.d.Engine.User(r.Context(), id); err == nil && u.Name != "" {
		return u.Name + " (" + id + ")"
	}
	return id
}
