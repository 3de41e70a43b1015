package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MinSessionSecret is the shortest console.session_secret accepted, in
// bytes: it signs the console's session cookies.
const MinSessionSecret = 32

// ConsoleConfig is the operators' web console at /console/.
type ConsoleConfig struct {
	// Enabled serves the console. cardflow demo turns it on with a demo
	// operator; elsewhere it is off.
	Enabled bool `yaml:"enabled"`
	// Users are the operators who log in with a password, each
	// "name:bcrypt-hash:acts_as[:locale]" (see ParseConsoleUsers); acts_as
	// is the org user the operator acts as, so the audit trail names a real
	// person. Environment only, comma separated: the file holds no hashes.
	Users []Secret `yaml:"users"`
	// AdminActsAs is the org user an operator who logs in with one of
	// server.admin_tokens acts as; "" refuses admin tokens at the log-in.
	AdminActsAs string `yaml:"admin_acts_as"`
	// SessionSecret signs the session cookies (HMAC-SHA256), so every
	// instance behind a load balancer accepts the sessions of the others.
	// At least 32 bytes; environment only.
	SessionSecret Secret `yaml:"session_secret"`
	// SessionTTL is how long a log-in lasts.
	SessionTTL time.Duration `yaml:"session_ttl"`
}

// ConsoleUser is one console.users entry.
type ConsoleUser struct {
	Name string
	// PasswordHash is the bcrypt hash of the password.
	PasswordHash Secret
	// ActsAs is the org user id the operator acts as.
	ActsAs string
	// Locale is "zh-CN" or "en"; "" leaves it to the browser's choice.
	Locale string
}

var (
	consoleName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
	bcryptHash  = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)
)

// ParseConsoleUsers reads console.users entries, "name:bcrypt-hash:acts_as"
// with an optional ":locale" (zh-CN or en). Its errors name the entry by
// its position and user name, never quoting the hash.
func ParseConsoleUsers(entries []Secret) ([]ConsoleUser, error) {
	var out []ConsoleUser
	seen := map[string]bool{}
	for i, e := range entries {
		parts := strings.Split(e.Reveal(), ":")
		if len(parts) < 3 || len(parts) > 4 {
			return nil, fmt.Errorf("item %d: expected name:bcrypt-hash:acts_as[:locale]", i)
		}
		u := ConsoleUser{Name: strings.TrimSpace(parts[0]), PasswordHash: Secret(strings.TrimSpace(parts[1])),
			ActsAs: strings.TrimSpace(parts[2])}
		if len(parts) == 4 {
			u.Locale = strings.TrimSpace(parts[3])
		}
		switch {
		case !consoleName.MatchString(u.Name):
			return nil, fmt.Errorf("item %d: the name must be 1 to 64 letters, digits, '.', '_', '@' or '-'", i)
		case seen[u.Name]:
			return nil, fmt.Errorf("item %d (user %s): named twice", i, u.Name)
		case !bcryptHash.MatchString(u.PasswordHash.Reveal()):
			return nil, fmt.Errorf("item %d (user %s): the password hash is not a bcrypt hash ($2a$…, 60 characters)", i, u.Name)
		case u.ActsAs == "":
			return nil, fmt.Errorf("item %d (user %s): acts_as is empty: name the org user the operator acts as", i, u.Name)
		case u.Locale != "" && u.Locale != "zh-CN" && u.Locale != "en":
			return nil, fmt.Errorf("item %d (user %s): the locale must be zh-CN or en, got %q", i, u.Name, u.Locale)
		}
		seen[u.Name] = true
		out = append(out, u)
	}
	return out, nil
}

func (c *Config) validateConsole(p *problems) {
	s := c.Console
	if _, err := ParseConsoleUsers(s.Users); err != nil {
		p.add("console.users", "%v", err)
	}
	if s.SessionTTL <= 0 {
		p.add("console.session_ttl", "must be positive, got %s", s.SessionTTL)
	}
	if !s.Enabled {
		return
	}
	if len(s.SessionSecret.Reveal()) < MinSessionSecret {
		p.addFrom("console.session_secret", "console.enabled",
			"required when the console is on: at least %d bytes, which sign the session cookies", MinSessionSecret)
	}
	if len(s.Users) == 0 && (s.AdminActsAs == "" || len(c.Server.AdminTokens) == 0) {
		p.addFrom("console.users", "console.enabled",
			"nobody can log in: set console.users, or server.admin_tokens and console.admin_acts_as")
	}
}
