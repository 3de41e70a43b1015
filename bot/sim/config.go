package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cardflow/bot"
)

// Config configures the simulator. Zero values take the defaults below.
type Config struct {
	// Path is where the server mounts Handler: the page is at Path + "/"
	// and the API under Path + "/api/". Default "/sim".
	Path string
	// InboxSize is how many messages an inbox keeps; older ones are
	// dropped. Default 200.
	InboxSize int
	// Chats are the group chats the page lists before any card reached
	// them; a chat a card is sent to is listed from then on anyway.
	Chats []Chat
	// MaxBody bounds a request body in bytes. Default 64 KiB.
	MaxBody int64
	// Heartbeat is how often an idle event stream sends a comment, so that
	// proxies do not close it. Default 20s.
	Heartbeat time.Duration
}

// Chat is a group chat of the simulator.
type Chat struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Defaults of Config.
const (
	DefaultPath      = "/sim"
	DefaultInboxSize = 200
	DefaultMaxBody   = 64 << 10
	DefaultHeartbeat = 20 * time.Second
)

func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	c.Path = strings.TrimSuffix(c.Path, "/")
	if c.InboxSize == 0 {
		c.InboxSize = DefaultInboxSize
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	return c
}

// Validate returns every problem of c, each with its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("sim."+key+": "+format, args...))
	}
	if !strings.HasPrefix(c.Path, "/") || strings.ContainsAny(c.Path, "?#*{} ") {
		bad("path", "%q: must be an absolute URL path like /sim", c.Path)
	}
	if c.InboxSize < 1 {
		bad("inbox_size", "%d: must be at least 1", c.InboxSize)
	}
	if c.MaxBody < 1<<10 {
		bad("max_body", "%d: must be at least 1024 bytes", c.MaxBody)
	}
	if c.Heartbeat < time.Second {
		bad("heartbeat", "%s: must be at least 1s", c.Heartbeat)
	}
	seen := map[string]bool{}
	for i, ch := range c.Chats {
		switch {
		case bot.ValidateID("chat id", ch.ID) != nil:
			bad(fmt.Sprintf("chats[%d].id", i), "%q: must be set, at most %d bytes of UTF-8 text", ch.ID, bot.MaxIDLen)
		case seen[ch.ID]:
			bad(fmt.Sprintf("chats[%d].id", i), "%q: listed twice", ch.ID)
		}
		seen[ch.ID] = true
	}
	return errors.Join(errs...)
}
