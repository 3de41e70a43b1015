package feishu

import (
	"context"
	"fmt"

	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"
)

// runStream keeps the SDK's long connection open until ctx ends. The SDK
// asks for an endpoint with the app's credentials, reconnects when the
// connection drops (Feishu redelivers what was not acknowledged), and
// hands each event to the same dispatcher the webhook uses. No signature
// or encryption travels this way: the connection itself is authenticated.
func (p *Platform) runStream(ctx context.Context) error {
	cli := larkws.NewClient(p.cfg.AppID, p.cfg.AppSecret.Reveal(),
		larkws.WithEventHandler(p.disp), larkws.WithDomain(p.cfg.BaseURL),
		larkws.WithHttpClient(p.http), larkws.WithLogger(sdkLogger{p.log}),
		larkws.WithOnReady(func() { p.log.Info("feishu: long connection open") }),
		larkws.WithOnReconnected(func() { p.log.Info("feishu: long connection open again") }),
		larkws.WithOnDisconnected(func() { p.log.Warn("feishu: long connection dropped") }))
	err := cli.Start(ctx)
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("feishu: long connection: %w", err)
}
