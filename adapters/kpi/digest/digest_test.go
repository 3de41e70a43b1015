package digest_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi/digest"
	"cardflow/bot"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/queue"
)

var shanghai = time.FixedZone("CST", 8*3600)

// recordingQueue keeps what is published; nothing consumes it.
type recordingQueue struct {
	queue.Queue
	mu  sync.Mutex
	ids []string
}

func (q *recordingQueue) Publish(_ context.Context, _ string, msgs ...queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range msgs {
		q.ids = append(q.ids, m.ID)
	}
	return nil
}

func (q *recordingQueue) published() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.ids...)
}

type roles map[string][]string

func (r roles) UsersWithRole(_ context.Context, role string) ([]flows.User, error) {
	var out []flows.User
	for _, id := range r[role] {
		out = append(out, flows.User{ID: id})
	}
	return out, nil
}

type nopPoster struct{}

func (nopPoster) Post(context.Context, bot.Audience, string, func(context.Context, bot.Reader) (bot.Card, error)) error {
	return nil
}

func nopRender(context.Context, digest.Schedule, time.Time, bot.Reader) (bot.Card, error) {
	return bot.Card{}, nil
}

func TestRunsFallDueInTheirZone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble starts at 2000-01-01 00:00 UTC, 08:00 in Shanghai.
		q := &recordingQueue{}
		s, err := digest.New(digest.Deps{Queue: q, Poster: nopPoster{}, Render: nopRender,
			Roles: roles{"gm": {"u_wang"}, "finance": {"u_zhao", "u_qian"}},
			Schedules: []digest.Schedule{
				{Name: "daily", Cron: "0 9 * * *", Zone: shanghai, To: []string{"role:gm", "role:finance", "u_zhao", "chat:feishu:oc_1"}},
				{Name: "weekly", Cron: "30 8 * * 1", Zone: shanghai, To: []string{"u_wang"}},
			}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()

		synctest.Wait()
		require.Empty(t, q.published(), "yesterday's 09:00 is more than the catch-up window ago")

		time.Sleep(59*time.Minute + 59*time.Second)
		synctest.Wait()
		require.Empty(t, q.published(), "08:59:59 in Shanghai")

		time.Sleep(time.Second)
		synctest.Wait()
		got := q.published()
		sort.Strings(got)
		require.Equal(t, []string{
			"digest/daily/2000-01-01T01:00:00Z/chat:feishu:oc_1",
			"digest/daily/2000-01-01T01:00:00Z/u_qian",
			"digest/daily/2000-01-01T01:00:00Z/u_wang",
			"digest/daily/2000-01-01T01:00:00Z/u_zhao",
		}, got, "roles expanded, u_zhao once")

		// Monday 3 January 08:30 in Shanghai is the weekly's first run.
		time.Sleep(48*time.Hour - 30*time.Minute)
		synctest.Wait()
		require.Contains(t, q.published(), "digest/weekly/2000-01-03T00:30:00Z/u_wang")
		require.Len(t, q.published(), 4+4+1, "Sunday's daily and the weekly; Monday's daily is not due at 08:30")
		cancel()
		require.NoError(t, <-done)
	})
}

func TestStartUpPublishesTheLastRunWithinCatchUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(90 * time.Minute) // 09:30 in Shanghai
		q := &recordingQueue{}
		s, err := digest.New(digest.Deps{Queue: q, Poster: nopPoster{}, Render: nopRender, Roles: roles{},
			Schedules: []digest.Schedule{{Name: "daily", Cron: "0 9 * * *", Zone: shanghai, To: []string{"u_wang"}}}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait()
		require.Equal(t, []string{"digest/daily/2000-01-01T01:00:00Z/u_wang"}, q.published())
		cancel()
		require.NoError(t, <-done)
	})
}

func TestBadSchedulesAreRefusedTogether(t *testing.T) {
	t.Parallel()
	_, err := digest.New(digest.Deps{Queue: &recordingQueue{}, Poster: nopPoster{}, Render: nopRender, Roles: roles{},
		Schedules: []digest.Schedule{
			{Name: "a", Cron: "61 9 * * *", Zone: shanghai, To: []string{"u_wang"}},
			{Name: "b", Cron: "0 9 * * *", To: []string{"u_wang"}},
			{Name: "c", Cron: "0 9 * * *", Zone: shanghai},
		}})
	require.ErrorContains(t, err, `digest a: cron "61 9 * * *"`)
	require.ErrorContains(t, err, "digest b: no time zone")
	require.ErrorContains(t, err, "digest c: no recipients")
}

// countingPlatform is a chat platform that counts the cards each reader got.
type countingPlatform struct {
	mu  sync.Mutex
	got map[string]int
	n   int
}

func (p *countingPlatform) Name() string { return "sim" }

func (p *countingPlatform) Send(_ context.Context, to bot.Reader, c bot.Card) (bot.Sent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got[to.UserID+" "+c.Title]++
	p.n++
	return bot.Sent{MessageID: fmt.Sprintf("m%d", p.n)}, nil
}

func (p *countingPlatform) Update(context.Context, bot.Reader, bot.CardMessage, bot.Card) (bot.Sent, error) {
	return bot.Sent{}, queue.Permanent(fmt.Errorf("a digest is never updated"))
}

// crashingPoster posts through the pipeline and, after allow posts, ends the
// server's context: the rest of the run dies with it.
type crashingPoster struct {
	next  digest.Poster
	mu    sync.Mutex
	allow int
	crash context.CancelFunc
	done  chan string
}

func (c *crashingPoster) Post(ctx context.Context, to bot.Audience, subject string,
	render func(context.Context, bot.Reader) (bot.Card, error)) error {
	c.mu.Lock()
	if c.allow == 0 {
		c.mu.Unlock()
		c.crash()
		return ctx.Err()
	}
	c.allow--
	c.mu.Unlock()
	err := c.next.Post(ctx, to, subject, render)
	if err == nil {
		c.done <- to.String()
	}
	return err
}

func TestARestartInTheMiddleOfARunSendsEachCopyOnce(t *testing.T) {
	t.Parallel()
	store, _ := exampletest.World(t)
	pl := &countingPlatform{got: map[string]int{}}
	pipeline, err := bot.NewPipeline(bot.PipelineDeps{Platforms: map[string]bot.Platform{"sim": pl}, Store: store,
		Directory: store, Render: noRenderer{}})
	require.NoError(t, err)

	run := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	schedules := []digest.Schedule{{Name: "daily", Cron: "0 9 * * *", Zone: shanghai,
		To: []string{"role:finance", "role:warehouse", "role:cs", "u_wang"}}}
	render := func(_ context.Context, s digest.Schedule, at time.Time, r bot.Reader) (bot.Card, error) {
		return bot.Card{Title: s.Name + " " + at.In(r.Zone).Format("01-02 15:04")}, nil
	}
	want := []string{"u_chen", "u_chu", "u_feng", "u_qian", "u_sun", "u_wang", "u_zhao", "u_zheng"}

	// The first server publishes the run and dies after three copies.
	delivered := make(chan string, 16)
	ctx1, crash := context.WithCancel(t.Context())
	first := &crashingPoster{next: pipeline, allow: 3, crash: crash, done: delivered}
	q1 := queue.NewMemory(queue.MemoryOptions{})
	s1, err := digest.New(digest.Deps{Queue: q1, Poster: first, Roles: store, Render: render, Schedules: schedules,
		Now: func() time.Time { return run.Add(time.Second) }})
	require.NoError(t, err)
	go func() { _ = s1.Run(ctx1) }()
	require.NoError(t, q1.Consume(ctx1, digest.Topic, s1.Handle, queue.ConsumeOptions{Concurrency: 1}))
	require.NoError(t, q1.Close())
	require.Len(t, delivered, 3)
	for range 3 {
		<-delivered
	}

	// The restarted server (an in-process queue lost its messages) finishes
	// the run from its catch-up.
	ctx2, stop := context.WithCancel(t.Context())
	defer stop()
	q2 := queue.NewMemory(queue.MemoryOptions{})
	defer q2.Close()
	second := &crashingPoster{next: pipeline, allow: 100, crash: stop, done: delivered}
	s2, err := digest.New(digest.Deps{Queue: q2, Poster: second, Roles: store, Render: render, Schedules: schedules,
		Now: func() time.Time { return run.Add(20 * time.Minute) }})
	require.NoError(t, err)
	go func() { _ = s2.Run(ctx2) }()
	go func() { _ = q2.Consume(ctx2, digest.Topic, s2.Handle, queue.ConsumeOptions{}) }()
	for range len(want) { // every copy handled: sent now, or found sent before
		<-delivered
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var got []string
	for k, n := range pl.got {
		require.Equal(t, 1, n, "%s got the digest %d times", k, n)
		got = append(got, k)
	}
	sort.Strings(got)
	var exp []string
	for _, u := range want {
		exp = append(exp, u+" daily 11-30 09:00")
	}
	require.Equal(t, exp, got)
}

// noRenderer renders no flow cards: only digests go through this pipeline.
type noRenderer struct{}

func (noRenderer) TaskCard(context.Context, bot.Reader, string, *flows.NotificationIntent) (bot.Card, error) {
	return bot.Card{}, flows.ErrNotFound
}

func (noRenderer) InstanceCard(context.Context, bot.Reader, string, *flows.NotificationIntent) (bot.Card, error) {
	return bot.Card{}, flows.ErrNotFound
}

func (noRenderer) Notice(context.Context, bot.Reader, flows.NotificationIntent) (bot.Card, error) {
	return bot.Card{}, flows.ErrNotFound
}
