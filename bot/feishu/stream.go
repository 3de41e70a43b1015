package feishu

import (
	"context"

	"cardflow/config"
)

// Run keeps the long connection to Feishu open in stream mode, taking
// clicks and messages through it, until ctx ends. In webhook mode it
// returns at once: callbacks come to Handler.
func (p *Platform) Run(ctx context.Context) error {
	if p.cfg.Mode != config.ModeStream {
		return nil
	}
	return p.runStream(ctx)
}
