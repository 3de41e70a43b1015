package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/width"

	"cardflow/flows"
)

// Command is a chat command, registered by the package that owns its data
// (bot its own, adapters /order and /stock).
type Command struct {
	// Names are what a message starts with: "/todo", "待办". The first is
	// the canonical one, shown in help.
	Names []string
	// Usage is one line of help per locale: "/order <订单号>  查询订单".
	UsageZH, UsageEN string
	// Run answers the command; args are the words after its name.
	Run func(ctx context.Context, req Request, args []string) ([]Card, error)
}

// Request is a command as the router hands it over.
type Request struct {
	Reader  Reader
	Message Message
}

// Router maps messages to commands. Unknown input is answered with the help
// card; a command's bad arguments with its usage line.
type Router struct {
	mu       sync.RWMutex
	commands []Command
	byName   map[string]int // lower-case name → index in commands
}

// maxMessage bounds a command message; chat apps allow far more, but no
// command needs it.
const maxMessage = 2000

// NewRouter returns a router with /help registered.
func NewRouter() *Router {
	r := &Router{byName: map[string]int{}}
	r.Register(Command{Names: []string{"/help", "帮助", "help", "?"},
		UsageZH: "/help 或 帮助  查看可用的命令", UsageEN: "/help  list the commands",
		Run: func(_ context.Context, req Request, _ []string) ([]Card, error) {
			return []Card{r.help(req.Reader.Locale)}, nil
		}})
	return r
}

// Register adds a command; a name registered twice panics at start-up, as
// two commands answering one name is a programming error.
func (r *Router) Register(c Command) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range c.Names {
		if _, dup := r.byName[strings.ToLower(n)]; dup {
			panic("bot: command " + n + " registered twice")
		}
		r.byName[strings.ToLower(n)] = len(r.commands)
	}
	r.commands = append(r.commands, c)
}

// Handle answers a message.
func (r *Router) Handle(ctx context.Context, req Request) ([]Card, error) {
	text := strings.TrimSpace(req.Message.Text)
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxMessage {
		return []Card{r.help(req.Reader.Locale)}, nil
	}
	// A Chinese input method writes letters, digits, the slash and the
	// space full-width: ／order　１００１ is /order 1001.
	words := strings.Fields(width.Fold.String(text))
	if len(words) == 0 {
		return []Card{r.help(req.Reader.Locale)}, nil
	}
	r.mu.RLock()
	i, ok := r.byName[strings.ToLower(words[0])]
	if !ok {
		// A Chinese name is often typed glued to its argument: 查单5001,
		// 查单：5001.
		best, arg := "", ""
		for name, j := range r.byName {
			rest, glued := strings.CutPrefix(words[0], name)
			rest = strings.TrimLeft(rest, ":")
			if glued && !strings.HasPrefix(name, "/") && rest != "" && len(name) > len(best) {
				best, arg, i, ok = name, rest, j, true // the longest name that fits
			}
		}
		if ok {
			words = append([]string{best, arg}, words[1:]...)
		}
	}
	var cmd Command
	if ok {
		cmd = r.commands[i]
	}
	r.mu.RUnlock()
	if !ok {
		return []Card{r.help(req.Reader.Locale)}, nil
	}
	cards, err := cmd.Run(ctx, req, words[1:])
	if err != nil {
		info, known := flows.Describe(err)
		if !known {
			return nil, fmt.Errorf("bot: command %s: %w", cmd.Names[0], err)
		}
		return []Card{{Subject: "error", Status: StatusRejected, Title: info.Text(string(req.Reader.Locale))}}, nil
	}
	return cards, nil
}

// UsageCard answers a command given bad arguments.
func UsageCard(l Locale, c Command) Card {
	if l == LocaleEN {
		return Card{Subject: "usage", Status: StatusInfo, Title: "Usage", Text: c.UsageEN}
	}
	return Card{Subject: "usage", Status: StatusInfo, Title: "用法", Text: c.UsageZH}
}

func (r *Router) help(l Locale) Card {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var lines []string
	for _, c := range r.commands {
		u := c.UsageZH
		if l == LocaleEN {
			u = c.UsageEN
		}
		lines = append(lines, "- "+u)
	}
	slices.Sort(lines)
	if l == LocaleEN {
		return Card{Subject: "help", Status: StatusInfo, Title: "What I can do", Text: strings.Join(lines, "\n")}
	}
	return Card{Subject: "help", Status: StatusInfo, Title: "我能做什么", Text: strings.Join(lines, "\n")}
}
