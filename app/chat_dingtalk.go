package app

import (
	"github.com/go-chi/chi/v5"

	"cardflow/bot"
	"cardflow/bot/dingtalk"
)

// buildDingTalk wires DingTalk: cards through the app's robot, clicks and
// messages from its stream connection (a runner) or, in webhook mode,
// robot messages at /callbacks/dingtalk.
func buildDingTalk(d *chatDeps) (bot.Platform, error) {
	p, err := dingtalk.New(d.cfg.DingTalk, dingtalk.Deps{Inbound: d.inbound, Store: d.store, Directory: d.engine,
		Limiter: d.limiter, Log: d.log.With("component", dingtalk.Name)})
	if err != nil {
		return nil, err
	}
	h := p.Handler()
	d.chat.routes = append(d.chat.routes, func(r chi.Router) { r.Handle("/callbacks/dingtalk", h) })
	d.chat.runners = append(d.chat.runners, p.Run)
	d.chat.closers = append(d.chat.closers, p.Close)
	return p, nil
}
