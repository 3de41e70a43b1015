package main

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"cardflow/config"
)

// demoOperator is the console log-in the demo makes up, acting as the
// example org's administrator.
const (
	demoOperator = "admin"
	demoActsAs   = "u_shen"
)

// demoConsole turns the web console on for the demo, unless the
// configuration says otherwise: a session secret and, when no operator is
// configured, an operator "admin" with a password made up for this run,
// which it returns as "admin / <password>" for the banner ("" when the
// operators are configured).
func demoConsole(cfg *config.Config) (string, error) {
	if cfg.Source("console.enabled") == "default" {
		cfg.Console.Enabled = true
	}
	if !cfg.Console.Enabled {
		return "", nil
	}
	if cfg.Console.SessionSecret.IsZero() {
		cfg.Console.SessionSecret = config.Secret(rand.Text() + rand.Text())
	}
	login := ""
	if len(cfg.Console.Users) == 0 {
		password := rand.Text()[:12]
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
		if err != nil {
			return "", fmt.Errorf("console: hash the demo password: %w", err)
		}
		cfg.Console.Users = []config.Secret{config.Secret(demoOperator + ":" + string(hash) + ":" + demoActsAs)}
		login = demoOperator + " / " + password
	}
	return login, cfg.Validate()
}

// consoleNote is the banner's word on the console: the demo log-in, or
// where the log-ins come from.
func consoleNote(cfg *config.Config, login string) string {
	switch {
	case !cfg.Console.Enabled:
		return "(off: console.enabled is false)"
	case login != "":
		return "log in as " + login + " (acts as 沈管理员, an administrator)"
	}
	return "log in as one of CARDFLOW_CONSOLE_USERS"
}
