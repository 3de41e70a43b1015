package app

import (
	"fmt"
	"log/slog"
	"strings"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/queue"
	"cardflow/server/console"
)

// newConsole builds the web console when console.enabled is set; nil
// otherwise.
func newConsole(cfg *config.Config, store flows.Store, engine *flows.Engine, q queue.Queue,
	c *chat, log *slog.Logger) (*console.Console, error) {
	if !cfg.Console.Enabled {
		return nil, nil
	}
	users, err := config.ParseConsoleUsers(cfg.Console.Users)
	if err != nil {
		return nil, err // Validate reported it already
	}
	read, ok := store.(console.Store)
	if !ok {
		return nil, fmt.Errorf("console: the %T store cannot count instances and overdue tasks", store)
	}
	d := console.Deps{Engine: engine, Store: read, Queue: q, Topics: appTopics,
		Sends: c.sends.Totals, Logger: log.With("component", "console")}
	for _, rt := range Retentions(cfg) {
		d.Retentions = append(d.Retentions, console.Retention(rt))
	}
	if cards, ok := store.(bot.Store); ok {
		d.Cards = cards
	}
	if cfg.Sim.Enabled {
		d.SimURL = "/sim/"
	}
	return console.New(console.Config{
		Users:         users,
		AdminTokens:   cfg.Server.AdminTokens,
		AdminActsAs:   cfg.Console.AdminActsAs,
		SessionSecret: []byte(cfg.Console.SessionSecret.Reveal()),
		SessionTTL:    cfg.Console.SessionTTL,
		Secure:        strings.HasPrefix(cfg.Server.PublicURL, "https://"),
	}, d)
}
