package app

import (
	"github.com/go-chi/chi/v5"

	"cardflow/bot"
	"cardflow/bot/feishu"
)

// buildFeishu wires the Feishu platform: its callbacks at /callbacks/feishu
// (webhook mode), its long connection among the runners (stream mode).
func buildFeishu(d *chatDeps) (bot.Platform, error) {
	p, err := feishu.New(d.cfg.Feishu, feishu.Deps{Inbound: d.inbound, Store: d.store, Directory: d.engine,
		Limiter: d.limiter, Log: d.log.With("component", feishu.Name)})
	if err != nil {
		return nil, err
	}
	h := p.Handler()
	d.chat.routes = append(d.chat.routes, func(r chi.Router) { r.Handle("/callbacks/feishu", h) })
	d.chat.runners = append(d.chat.runners, p.Run)
	d.chat.closers = append(d.chat.closers, p.Close)
	return p, nil
}
