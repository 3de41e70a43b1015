package feishu

import "context"

// Dispatch hands a decrypted event to the dispatcher as the long
// connection does, for tests.
func (p *Platform) Dispatch(ctx context.Context, payload []byte) (any, error) {
	return p.disp.Do(ctx, payload)
}
