package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// sessionCookie carries an operator's log-in.
const sessionCookie = "cf_console_session"

// session is what the signed cookie says: who logged in, whom they act
// as, until when. ID is random per log-in; the CSRF token is derived from
// it, so a token is good for one session only.
//
// Sessions are stateless (a signed cookie, not a table) so that every
// instance behind a load balancer accepts them with nothing shared but
// console.session_secret, and a page costs no store round trip. The price:
// logging out deletes the cookie in the browser, but a copy taken before
// stays good until it expires (console.session_ttl).
type session struct {
	ID      string `json:"i"`
	Name    string `json:"n"`
	ActsAs  string `json:"a"`
	Locale  string `json:"l,omitempty"`
	Expires int64  `json:"e"`
	// Cred names the credential the log-in used (a MAC of the user's
	// password hash, or of the admin token), so that a session ends when
	// that credential leaves the configuration: a changed password, a
	// removed user or a revoked token takes effect at the next restart.
	Cred string `json:"c"`
	// Admin is whether ActsAs holds the org's administrator role, read
	// for each request (a role may change), never kept in the cookie.
	Admin bool `json:"-"`
}

// sessions signs and checks session cookies.
type sessions struct {
	key    []byte
	ttl    time.Duration
	secure bool // Secure cookies: the console is reached over https
	now    func() time.Time
}

var errBadSession = errors.New("console: no valid session")

func (s *sessions) mac(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}

// credOf names a credential (a password hash, a token) without showing
// it: a session carries this, never the credential.
func (s *sessions) credOf(secret string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("credential", []byte(secret))[:16])
}

// issue sets the cookie of a new session, logged in with the credential
// secret.
func (s *sessions) issue(w http.ResponseWriter, r *http.Request, name, actsAs, locale, secret string) {
	se := session{ID: rand.Text(), Name: name, ActsAs: actsAs, Locale: locale,
		Expires: s.now().Add(s.ttl).Unix(), Cred: s.credOf(secret)}
	body, _ := json.Marshal(se) // a struct of strings and an int always marshals
	enc := base64.RawURLEncoding
	value := enc.EncodeToString(body) + "." + enc.EncodeToString(s.mac("session", body))
	http.SetCookie(w, s.cookie(r, value, int(s.ttl/time.Second)))
}

// read returns the request's session, or errBadSession when it has none,
// a forged one or an expired one.
func (s *sessions) read(r *http.Request) (session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) > 4096 {
		return session{}, errBadSession
	}
	b64, sig, ok := strings.Cut(c.Value, ".")
	enc := base64.RawURLEncoding
	body, err1 := enc.DecodeString(b64)
	mac, err2 := enc.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac("session", body)) {
		return session{}, errBadSession
	}
	var se session
	if json.Unmarshal(body, &se) != nil || se.ID == "" || s.now().Unix() >= se.Expires {
		return session{}, errBadSession
	}
	return se, nil
}

// clear deletes the session cookie.
func (s *sessions) clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, "", -1))
}

func (s *sessions) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: value, Path: prefix, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secure || r.TLS != nil}
}

// csrf is the token every form of the session carries.
func (s *sessions) csrf(se session) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", []byte(se.ID)))
}

// checkCSRF reports whether a form's token is the session's.
func (s *sessions) checkCSRF(se session, token string) bool {
	return hmac.Equal([]byte(token), []byte(s.csrf(se)))
}
