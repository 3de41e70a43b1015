package wecom_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/wecom"
	"cardflow/bot/wecom/wecomtest"
)

func TestMessageAnsweredWithCardsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.in.cards = []bot.Card{{Subject: "todo", Status: bot.StatusApproved, Title: "没有待办", Text: "你目前没有需要处理的任务。"}}
	u := b.serve(t)
	plain, err := xml.Marshal(b.fake.Text("QianDuoduo", " 待办 ", "7001"))
	require.NoError(t, err)
	sealed := b.fake.Seal(plain)
	for range 2 {
		reply, err := b.fake.Post(t.Context(), u, sealed)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, reply.Status)
	}
	m, err := b.fake.WaitMessage(waitCtx(t), func(m wecomtest.Message) bool { return m.User == "QianDuoduo" })
	require.NoError(t, err)
	require.Equal(t, "没有待办", m.Card.MainTitle.Title)
	require.NoError(t, b.p.Close()) // waits for replies being sent
	require.Len(t, b.fake.Messages(), 1, "a retried message is answered once")
	_, msgs := b.in.got()
	require.Equal(t, "待办", msgs[0].Text)
	require.Equal(t, "7001", msgs[0].EventID)
}

func TestTodoChoiceSendsTheListAndKeepsTheCode(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	decided := approvalCard("i1.t1")
	decided.Buttons = nil
	m := b.sendRecorded(t, decided)
	card := b.fake.Messages()[0].Card
	require.Len(t, card.ButtonList, 1)
	b.in.cards = []bot.Card{approvalCard("i2.t1")}
	ev := b.fake.Click("QianDuoduo", m.MessageID, card.ButtonList[0].Key)
	reply, err := b.fake.Fire(t.Context(), b.serve(t), ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reply.Status)
	require.Nil(t, reply.Plain)
	list, err := b.fake.WaitMessage(waitCtx(t), func(m wecomtest.Message) bool {
		return m.Card.ButtonList[0].Key == "a=approve&p=t%3Ai2.t1%3A1"
	})
	require.NoError(t, err)
	require.Equal(t, "QianDuoduo", list.User)
	_, msgs := b.in.got()
	require.Equal(t, "/todo", msgs[0].Text)
	stored, err := b.store.Card(t.Context(), m.CardKey)
	require.NoError(t, err)
	require.Equal(t, ev.ResponseCode, stored.UpdateToken, "the click's code is kept for the card")
}

// refuseOnce is a limiter that refuses its first call for a moment.
type refuseOnce struct {
	mu    sync.Mutex
	calls int
}

func (l *refuseOnce) Allow(context.Context, string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.calls > 1, time.Millisecond, nil
}

func TestReplyWaitsForTheLimiter(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	lim := &refuseOnce{}
	p, err := wecom.New(b.cfg, wecom.Deps{Inbound: b.in, Store: b.store, Directory: newDirectory(), Limiter: lim,
		Log: b.log.Logger})
	require.NoError(t, err)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	b.in.cards = []bot.Card{{Subject: "todo", Title: "没有待办"}}
	reply, err := b.fake.Fire(t.Context(), srv.URL, b.fake.Text("QianDuoduo", "/todo", "7002"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reply.Status)
	require.NoError(t, p.Close())
	require.Len(t, b.fake.Messages(), 1, "sent once the limiter allowed it")
	require.Equal(t, 2, lim.calls)
}
