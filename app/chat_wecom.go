package app

import (
	"github.com/go-chi/chi/v5"

	"cardflow/bot"
	"cardflow/bot/wecom"
)

// buildWeCom builds the WeCom app: its callback route (GET for the URL
// check, POST for clicks and messages), no runner (WeCom posts to us), and
// its closer, which waits for replies still being sent.
func buildWeCom(d *chatDeps) (bot.Platform, error) {
	p, err := wecom.New(d.cfg.WeCom, wecom.Deps{Inbound: d.inbound, Store: d.store, Directory: d.engine,
		Limiter: d.limiter, Log: d.log.With("component", wecom.Name)})
	if err != nil {
		return nil, err
	}
	h := p.Handler()
	d.chat.routes = append(d.chat.routes, func(r chi.Router) { r.Handle("/callbacks/wecom", h) })
	d.chat.runners = append(d.chat.runners, p.Run)
	d.chat.closers = append(d.chat.closers, p.Close)
	return p, nil
}
