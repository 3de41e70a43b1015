package wecom

import (
	"context"
	"fmt"
	"strings"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/queue"
)

// Robot is a group robot (群机器人): a webhook that posts to one group
// chat, for alerts and digests. Its cards are markdown: a robot's message
// takes no clicks.
type Robot struct {
	name string
	url  config.Secret // holds the robot's key
	p    *Platform
}

// Robot returns the robot configured under name.
func (p *Platform) Robot(name string) (*Robot, bool) {
	r, ok := p.robots[name]
	return r, ok
}

// maxMarkdown is the most a robot's markdown message takes, in bytes.
const maxMarkdown = 4096

type robotMessage struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

// Send posts c to the robot's group as markdown, after the limiter allows
// it (18 a minute: WeCom takes 20). WeCom's 45009 is a rate limit too.
func (r *Robot) Send(ctx context.Context, c bot.Card) error {
	if l := r.p.deps.Limiter; l != nil {
		ok, after, err := l.Allow(ctx, Name+"-robot:"+r.name)
		if err != nil {
			return fmt.Errorf("wecom: robot %s: rate limiter: %w", r.name, err)
		}
		if !ok {
			return queue.RateLimited(fmt.Errorf("wecom: robot %s: rate limit", r.name), after)
		}
	}
	var m robotMessage
	m.MsgType = "markdown"
	m.Markdown.Content = Markdown(c)
	var out base
	if err := doJSON(ctx, r.p.deps.HTTP, "POST", r.url.Reveal(), m, &out); err != nil {
		return fmt.Errorf("wecom: robot %s: %w", r.name, err)
	}
	if err := out.err(); err != nil {
		return fmt.Errorf("wecom: robot %s: %w", r.name, classify(err))
	}
	return nil
}

// Markdown renders a card as a robot's markdown: the title in bold, the
// fields, the text, tables as lines, and the link.
func Markdown(c bot.Card) string {
	var b strings.Builder
	b.WriteString("**" + c.Title + "**\n")
	if c.Subtitle != "" {
		b.WriteString("> " + c.Subtitle + "\n")
	}
	if c.StatusLine != "" {
		b.WriteString(c.StatusLine + "\n")
	}
	for _, f := range c.Fields {
		b.WriteString(f.Label + "：" + f.Value + "\n")
	}
	if c.Text != "" {
		b.WriteString(c.Text + "\n")
	}
	for _, t := range c.Tables {
		for _, l := range tableLines(t) {
			b.WriteString(l + "\n")
		}
	}
	if c.Image != nil && c.Image.URL != "" {
		b.WriteString("[" + cmpOr(c.Image.Alt, "图表") + "](" + c.Image.URL + ")\n")
	}
	if c.Link != "" {
		b.WriteString("[查看详情](" + c.Link + ")\n")
	}
	if c.Note != "" {
		b.WriteString("<font color=\"comment\">" + c.Note + "</font>\n")
	}
	out := strings.TrimRight(b.String(), "\n")
	for len(out) > maxMarkdown {
		r := []rune(out)
		out = string(r[:len(r)-len(r)/8-1])
	}
	return out
}
