package feishu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
	"cardflow/flows"
)

// slowInbound takes as long as the context lets it.
type slowInbound struct{}

func (slowInbound) Click(ctx context.Context, _ bot.Click) (bot.ClickReply, error) {
	<-ctx.Done()
	return bot.ClickReply{}, ctx.Err()
}

func (slowInbound) Message(ctx context.Context, _ bot.Message) ([]bot.Card, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// events is a bot.Store that keeps only events.
type events struct {
	bot.Store
	mu   sync.Mutex
	seen map[string]bot.Event
}

func (s *events) RememberEvent(_ context.Context, e bot.Event) (bool, bot.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.seen[e.ID]; ok {
		return false, old, nil
	}
	s.seen[e.ID] = e
	return true, e, nil
}

type nobody struct{}

func (nobody) User(context.Context, string) (flows.User, error) {
	return flows.User{}, flows.ErrNotFound
}
func (nobody) UserByPlatformID(context.Context, string, string) (flows.User, error) {
	return flows.User{}, flows.ErrNotFound
}

// TestSlowClickIsCutAtFeishusDeadline: Feishu waits 3 s for a click's
// answer; work that takes longer is cut short before then (and nothing is
// remembered, so Feishu's retry runs it again).
func TestSlowClickIsCutAtFeishusDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		keys := feishutest.DefaultKeys
		cfg := keysConfig(keys, "http://127.0.0.1:9") // never called
		store := &events{seen: map[string]bot.Event{}}
		p, err := feishu.New(cfg, feishu.Deps{Inbound: slowInbound{}, Store: store, Directory: nobody{}})
		require.NoError(t, err)
		req := feishutest.ClickRequest("http://cardflow.test/callbacks/feishu", keys,
			feishutest.Click{OpenID: "ou_qian0003", Value: map[string]any{"a": "approve", "p": "t:x:1"}})
		start := time.Now()
		w := httptest.NewRecorder()
		p.Handler().ServeHTTP(w, req)
		took := time.Since(start)
		require.Less(t, took, 3*time.Second)
		require.GreaterOrEqual(t, took, 2*time.Second, "the work had its time")
		require.Equal(t, http.StatusInternalServerError, w.Code)
		require.Empty(t, store.seen, "nothing remembered: a retry runs again")
		require.NoError(t, p.Close())
	})
}
