package feishu

import "context"

func (p *Platform) runStream(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
