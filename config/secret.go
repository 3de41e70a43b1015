package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// redacted is what a Secret prints as, whatever the verb or encoder.
const redacted = "<secret>"

// Secret is a string that never prints: fmt (every verb), encoding/json,
// YAML, encoding.TextMarshaler and log/slog all see "<secret>". Only Reveal
// returns the value, so every place that uses it is easy to find.
type Secret string

// Reveal returns the secret's value; call it only where the value is used
// (an Authorization header, a signature), never to log or report it.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty, which is not secret.
func (s Secret) IsZero() bool { return s == "" }

// String returns "<secret>".
func (s Secret) String() string { return redacted }

// GoString returns "<secret>", so %#v does not print the value either.
func (s Secret) GoString() string { return redacted }

// Format writes "<secret>" for every verb, including %d and %x, which would
// otherwise print the bytes of the underlying string.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON encodes the secret as "<secret>".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML encodes the secret as "<secret>".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// MarshalText encodes the secret as "<secret>".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue makes log/slog print "<secret>".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// DSN is a connection string (a PostgreSQL URL or key=value DSN, a Redis
// URL) that may hold a password. It prints with the password replaced by
// "xxxxx"; Reveal returns it whole for the driver.
type DSN string

// Reveal returns the connection string with its password, for the driver
// only.
func (d DSN) Reveal() string { return string(d) }

// IsZero reports whether no connection string is set.
func (d DSN) IsZero() bool { return d == "" }

// String returns the connection string with any password replaced by
// "xxxxx"; a string it cannot parse prints as "<secret>".
func (d DSN) String() string { return d.redacted() }

// GoString returns the same redacted form as String.
func (d DSN) GoString() string { return d.redacted() }

// Format writes the redacted form for every verb.
func (d DSN) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(d.redacted())) }

// MarshalJSON encodes the redacted form.
func (d DSN) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", d.redacted()), nil }

// MarshalYAML encodes the redacted form.
func (d DSN) MarshalYAML() (any, error) { return d.redacted(), nil }

// MarshalText encodes the redacted form.
func (d DSN) MarshalText() ([]byte, error) { return []byte(d.redacted()), nil }

// LogValue makes log/slog print the redacted form.
func (d DSN) LogValue() slog.Value { return slog.StringValue(d.redacted()) }

// Password returns the password the connection string carries, if any, so
// that callers can scrub it from third-party error messages.
func (d DSN) Password() (string, bool) {
	s := string(d)
	if u, ok := parseURL(s); ok {
		if p, set := u.User.Password(); set && p != "" {
			return p, true
		}
		if p := u.Query().Get("password"); p != "" {
			return p, true
		}
		return "", false
	}
	if m := kvPassword.FindStringSubmatch(s); m != nil {
		p := strings.Trim(m[2], "'")
		return p, p != ""
	}
	return "", false
}

// kvPassword finds the password of a libpq key=value DSN, quoted or not.
var kvPassword = regexp.MustCompile(`(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`)

func (d DSN) redacted() string {
	s := string(d)
	if s == "" {
		return ""
	}
	if u, ok := parseURL(s); ok {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	if strings.Contains(s, "=") && !strings.Contains(s, "://") {
		return kvPassword.ReplaceAllString(s, "${1}password=xxxxx")
	}
	// Neither a URL nor key=value: it may be a password pasted by mistake.
	return redacted
}

// parseURL parses s as a URL with a scheme, the form that can carry a
// password in its user info.
func parseURL(s string) (*url.URL, bool) {
	if !strings.Contains(s, "://") {
		return nil, false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil, false
	}
	return u, true
}
