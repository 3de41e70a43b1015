package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// maxField bounds a log-in field, so a huge one costs neither bcrypt (which
// reads 72 bytes) nor the limiter's memory.
const maxField = 256

// dummyHash is compared against when the user name is unknown, so the
// answer takes as long as for a known one and tells nothing. It is made
// at the first log-in, not when a program importing the console starts.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("cardflow-console-no-such-user"), bcrypt.DefaultCost)
	if err != nil {
		panic(err) // only for a password over 72 bytes or a bad cost
	}
	return h
})

type sessionKey struct{}

// sessionOf returns the session authenticate put in the context.
func sessionOf(ctx context.Context) session {
	s, _ := ctx.Value(sessionKey{}).(session)
	return s
}

// authenticate lets through requests with a valid session, sending others
// to the log-in page, and checks the CSRF token of every POST.
func (c *Console) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		se, err := c.ses.read(r)
		if err == nil && !c.stillValid(se) {
			err = errBadSession
		}
		if err == nil {
			// What the company's pages show is for administrators; anyone
			// else sees their own tasks and alerts (see adminOnly).
			se.Admin, err = c.d.Engine.IsAdmin(r.Context(), se.ActsAs)
		}
		if err != nil {
			if !errors.Is(err, errBadSession) {
				c.fail(w, r, err) // the directory could not be read
				return
			}
			if _, had := r.Cookie(sessionCookie); had == nil {
				c.ses.clear(w, r) // expired, forged, or its credential changed since
			}
			if r.Method == http.MethodGet {
				// After logging in, the reader lands on the page they
				// asked for: a link shared in chat keeps its target.
				to := prefix + "login"
				if r.URL.Path != prefix {
					to += "?next=" + url.QueryEscape(r.URL.RequestURI())
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			c.plainError(w, r, http.StatusUnauthorized, "login.expired")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !c.ses.checkCSRF(se, r.PostFormValue("csrf")) {
				c.plainError(w, r, http.StatusForbidden, "err.csrf")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, se)))
	})
}

// tokenSession is the name of a session logged in with an admin token.
// It holds a character no configured user name may, so that no user's
// session passes for a token's.
const tokenSession = "admin token"

// stillValid reports whether the credential a session logged in with is
// still configured, for the same identity: a user with that password
// hash acting as the same org user, or that admin token.
func (c *Console) stillValid(se session) bool {
	if se.Name == tokenSession {
		if !c.tokensLogIn() || se.ActsAs != c.cfg.AdminActsAs {
			return false
		}
		for _, t := range c.cfg.AdminTokens {
			if subtle.ConstantTimeCompare([]byte(c.ses.credOf(t.Reveal())), []byte(se.Cred)) == 1 {
				return true
			}
		}
		return false
	}
	for _, u := range c.cfg.Users {
		if u.Name == se.Name {
			return u.ActsAs == se.ActsAs &&
				subtle.ConstantTimeCompare([]byte(c.ses.credOf(u.PasswordHash.Reveal())), []byte(se.Cred)) == 1
		}
	}
	return false
}

// loginData is what the log-in page shows.
type loginData struct {
	Name      string
	Error     string
	HasTokens bool
	Next      string // the console page to go to once logged in
}

// next is the console page a log-in goes on to: the one asked for, else
// the dashboard.
func next(raw string) string {
	if to, ok := consolePage(raw); ok && !strings.HasPrefix(to, prefix+"login") {
		return to
	}
	return prefix
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	to := next(r.URL.Query().Get("next"))
	if se, err := c.ses.read(r); err == nil && c.stillValid(se) {
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	} else if err == nil {
		c.ses.clear(w, r) // signed, but its credential changed since
	}
	c.render(w, r, http.StatusOK, "login", "", loginData{HasTokens: c.tokensLogIn(), Next: to})
}

func (c *Console) tokensLogIn() bool { return c.cfg.AdminActsAs != "" && len(c.cfg.AdminTokens) > 0 }

// login checks a user name and password. Unknown names and wrong
// passwords get the same answer in about the same time; after
// freeAttempts failures for a name or from an address, attempts must wait.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, pw := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	if len(name) > maxField || len(pw) > maxField || !utf8.ValidString(name) {
		name, pw = "", ""
	}
	userKey, ipKey := "user:"+name, "ip:"+clientIP(r)
	if c.throttled(w, r, loginData{Name: name, HasTokens: c.tokensLogIn(), Next: next(r.PostFormValue("next"))}, userKey, ipKey) {
		return
	}
	hash, user := dummyHash(), -1
	for i, u := range c.cfg.Users {
		if subtle.ConstantTimeCompare([]byte(u.Name), []byte(name)) == 1 {
			hash, user = []byte(u.PasswordHash.Reveal()), i
		}
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil && user >= 0 && name != ""
	if !ok {
		c.limit.fail(userKey, ipKey)
		c.log.Warn("console log-in refused", "ip", clientIP(r))
		c.render(w, r, http.StatusUnauthorized, "login", "",
			loginData{Name: name, Error: tr(localeOf(r, ""), "login.bad"), HasTokens: c.tokensLogIn(), Next: next(r.PostFormValue("next"))})
		return
	}
	c.limit.clear(userKey)
	u := c.cfg.Users[user]
	c.ses.issue(w, r, u.Name, u.ActsAs, u.Locale, u.PasswordHash.Reveal())
	c.log.Info("console log-in", "user", u.Name, "acts_as", u.ActsAs)
	http.Redirect(w, r, next(r.PostFormValue("next")), http.StatusSeeOther)
}

// loginToken logs in with an admin token, acting as console.admin_acts_as.
func (c *Console) loginToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	token := r.PostFormValue("token")
	ipKey := "ip:" + clientIP(r)
	data := loginData{HasTokens: c.tokensLogIn(), Next: next(r.PostFormValue("next"))}
	if c.throttled(w, r, data, ipKey) {
		return
	}
	found := -1
	for i, t := range c.cfg.AdminTokens {
		if subtle.ConstantTimeCompare([]byte(token), []byte(t.Reveal())) == 1 && t.Reveal() != "" {
			found = i
		}
	}
	if found < 0 || !c.tokensLogIn() || len(token) > maxField {
		c.limit.fail(ipKey)
		c.log.Warn("console token log-in refused", "ip", clientIP(r))
		data.Error = tr(localeOf(r, ""), "login.bad")
		c.render(w, r, http.StatusUnauthorized, "login", "", data)
		return
	}
	c.ses.issue(w, r, tokenSession, c.cfg.AdminActsAs, "", c.cfg.AdminTokens[found].Reveal())
	c.log.Info("console log-in with an admin token", "token", found, "acts_as", c.cfg.AdminActsAs)
	http.Redirect(w, r, next(r.PostFormValue("next")), http.StatusSeeOther)
}

// adminOnly lets through an administrator's requests only: the company's
// figures, its people, dead letters and retention are theirs to see.
// Anyone else is told so (403).
func (c *Console) adminOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sessionOf(r.Context()).Admin {
			c.render(w, r, http.StatusForbidden, "error", "", tr(c.locale(r), "err.adminOnly"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// throttled answers 429 when any key must wait.
func (c *Console) throttled(w http.ResponseWriter, r *http.Request, data loginData, keys ...string) bool {
	wait := c.limit.wait(keys...)
	if wait <= 0 {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	data.Error = tr(localeOf(r, ""), "login.wait", secs)
	c.render(w, r, http.StatusTooManyRequests, "login", "", data)
	return true
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	c.ses.clear(w, r)
	c.flash(w, r, "ok", tr(c.locale(r), "login.out"))
	http.Redirect(w, r, prefix+"login", http.StatusSeeOther)
}

// switchLang sets the language cookie and goes back to the page, which
// must be one of the console's.
func (c *Console) switchLang(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if _, ok := catalogue[to]; !ok {
		to = localeZH
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: to, Path: prefix, MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.cfg.Secure || r.TLS != nil})
	back, ok := consolePage(r.URL.Query().Get("back"))
	if !ok {
		back = prefix
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// clientIP is the address the request came from. X-Forwarded-For is not
// trusted: anyone can set it, and would get a fresh limit each time.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
