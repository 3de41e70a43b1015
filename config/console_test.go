package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const hash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

func TestParseConsoleUsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []Secret
		want    []ConsoleUser
		err     string
	}{
		{name: "name, hash, acts_as", entries: []Secret{Secret("ops:" + hash + ":u_shen")},
			want: []ConsoleUser{{Name: "ops", PasswordHash: hash, ActsAs: "u_shen"}}},
		{name: "with a locale", entries: []Secret{Secret("ops:" + hash + ":u_shen:en")},
			want: []ConsoleUser{{Name: "ops", PasswordHash: hash, ActsAs: "u_shen", Locale: "en"}}},
		{name: "too few parts", entries: []Secret{Secret("ops:" + hash)}, err: "item 0: expected name:bcrypt-hash:acts_as[:locale]"},
		{name: "not bcrypt", entries: []Secret{"ops:plain-password:u_shen"},
			err: "item 0 (user ops): the password hash is not a bcrypt hash ($2a$…, 60 characters)"},
		{name: "no acts_as", entries: []Secret{Secret("ops:" + hash + ":")}, err: "item 0 (user ops): acts_as is empty"},
		{name: "bad locale", entries: []Secret{Secret("ops:" + hash + ":u_shen:fr")}, err: `item 0 (user ops): the locale must be zh-CN or en, got "fr"`},
		{name: "twice", entries: []Secret{Secret("ops:" + hash + ":u_shen"), Secret("ops:" + hash + ":u_wang")},
			err: "item 1 (user ops): named twice"},
		{name: "bad name", entries: []Secret{Secret("o ps:" + hash + ":u_shen")}, err: "item 0: the name must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConsoleUsers(tt.entries)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.NotContains(t, err.Error(), hash[7:], "the hash is never quoted")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestValidateConsole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  func(c *Config)
		err  []string
	}{
		{name: "off by default", set: func(*Config) {}},
		{name: "on with a user and a secret", set: func(c *Config) {
			c.Console.Enabled = true
			c.Console.Users = []Secret{Secret("ops:" + hash + ":u_shen")}
			c.Console.SessionSecret = Secret(strings.Repeat("s", MinSessionSecret))
		}},
		{name: "on with an admin token", set: func(c *Config) {
			c.Console.Enabled = true
			c.Server.AdminTokens = []Secret{"admin-token-0123456789"}
			c.Console.AdminActsAs = "u_shen"
			c.Console.SessionSecret = Secret(strings.Repeat("s", MinSessionSecret))
		}},
		{name: "on with nothing", set: func(c *Config) { c.Console.Enabled = true }, err: []string{
			"console.session_secret: required when the console is on: at least 32 bytes, which sign the session cookies (console.enabled from default)",
			"console.users: nobody can log in: set console.users, or server.admin_tokens and console.admin_acts_as (console.enabled from default)",
		}},
		{name: "short secret, bad TTL", set: func(c *Config) {
			c.Console.Enabled = true
			c.Console.Users = []Secret{Secret("ops:" + hash + ":u_shen")}
			c.Console.SessionSecret = "short"
			c.Console.SessionTTL = 0
		}, err: []string{
			"console.session_ttl: must be positive, got 0s (default)",
			"console.session_secret: required when the console is on",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.set(c)
			err := c.Validate()
			if len(tt.err) == 0 {
				require.NoError(t, err)
				return
			}
			for _, e := range tt.err {
				require.ErrorContains(t, err, e)
			}
		})
	}
}
