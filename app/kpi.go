package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"cardflow/adapters/kpi"
	"cardflow/adapters/kpi/digest"
	"cardflow/bot"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/chart"
	"cardflow/queue"
)

// kpiSide is the KPI adapter of a server: the board /kpi and the digests
// read, the webhook pushed metrics arrive on, the threshold alerter, the
// digest scheduler and the chart images' signer.
type kpiSide struct {
	cfg     *config.Config
	file    *kpi.File
	board   *kpi.Board
	webhook *kpi.Webhook
	alerter *kpi.Alerter
	signer  *chart.Signer
	digests map[string]kpi.Digest
	// scheduler is set once the chat side has a pipeline to post through.
	scheduler *digest.Scheduler
	log       *slog.Logger

	// runs caches a digest run's figures: every recipient of a run reads
	// the same, so 5,000 recipients cost one computation.
	mu   sync.Mutex
	runs map[string]*digestRun
}

// digestRun is one run's figures, computed once.
type digestRun struct {
	once sync.Once
	figs []kpi.Figure
	err  error
}

// newKPI builds the KPI adapter on store: the definitions are read (from
// the example embedded in the binary when the demo's file is missing) and
// their alert flows checked against the flows loaded.
func newKPI(cfg *config.Config, examples fs.FS, store flows.Store, loaded []*flows.Flow, engine *flows.Engine,
	log *slog.Logger) (*kpiSide, error) {
	ks, ok := store.(kpi.Store)
	if !ok {
		return nil, errors.New("kpi: the store does not keep KPI figures")
	}
	file, err := readKPIs(cfg.KPI.File, examples)
	if err != nil {
		return nil, err
	}
	byID := map[string]*flows.Flow{}
	for _, f := range loaded {
		byID[f.ID] = f
	}
	if err := file.Check(func(id string) (*flows.Flow, bool) { f, ok := byID[id]; return f, ok }); err != nil {
		return nil, err
	}
	sources, err := kpi.ParseSources(cfg.KPI.Sources)
	if err != nil {
		return nil, fmt.Errorf("kpi.sources: %w", err)
	}
	secret := []byte(cfg.KPI.ChartSecret.Reveal())
	if len(secret) == 0 {
		secret = []byte(rand.Text())
		if !cfg.Queue.RedisURL.IsZero() {
			log.Warn("kpi.chart_secret is not set: chart images made by this instance open only on it; " +
				"set CARDFLOW_KPI_CHART_SECRET to the same value on every instance")
		}
	}
	signer, err := chart.NewSigner(secret)
	if err != nil {
		return nil, fmt.Errorf("kpi.chart_secret: %w", err)
	}
	log = log.With("component", "kpi")
	board := kpi.NewBoard(ks, file, nil).WithApprovals(engine)
	k := &kpiSide{cfg: cfg, file: file, board: board, signer: signer, log: log, runs: map[string]*digestRun{},
		webhook: kpi.NewWebhook(sources, ks, log, nil), alerter: kpi.NewAlerter(board, file, engine, log, nil),
		digests: map[string]kpi.Digest{}}
	for _, d := range file.Digests {
		k.digests[d.Name] = d
	}
	return k, nil
}

// readKPIs reads the definitions file; none configured is no KPIs.
func readKPIs(path string, examples fs.FS) (*kpi.File, error) {
	if path == "" {
		return kpi.Parse("", nil)
	}
	data, err := os.ReadFile(path)
	if examples != nil && errors.Is(err, fs.ErrNotExist) {
		data, err = fs.ReadFile(examples, "kpis.example.yaml")
	}
	if err != nil {
		return nil, fmt.Errorf("kpi: definitions: %w", err)
	}
	return kpi.Parse(path, data)
}

// withPipeline builds the digest scheduler on the chat pipeline; without
// one (no chat platform) digests are not sent, which is logged.
func (k *kpiSide) withPipeline(p *bot.Pipeline, q queue.Queue, roles digest.Roles, now func() time.Time) error {
	if len(k.file.Digests) == 0 {
		return nil
	}
	if p == nil {
		k.log.Warn("digests are defined but no chat platform is configured: none is sent", "digests", len(k.file.Digests))
		return nil
	}
	var schedules []digest.Schedule
	for _, d := range k.file.Digests {
		schedules = append(schedules, digest.Schedule{Name: d.Name, Cron: d.Cron, Zone: d.Zone, To: d.To})
	}
	s, err := digest.New(digest.Deps{Schedules: schedules, Queue: q, Poster: p, Roles: roles, Render: k.render,
		Logger: k.log.With("component", "digest"), Now: now})
	if err != nil {
		return fmt.Errorf("kpi: %w", err)
	}
	k.scheduler = s
	return nil
}

// SendDigest publishes a run of the digest now (the demo's shop day).
func (k *kpiSide) SendDigest(ctx context.Context, name string) error {
	if k.scheduler == nil {
		return errors.New("no digest is sent: no chat platform is configured")
	}
	_, err := k.scheduler.Publish(ctx, name, time.Now().Truncate(time.Second))
	return err
}

// digestTitles name a digest by its period, in Chinese and English.
var digestTitles = map[kpi.Period][2]string{kpi.Day: {"经营日报", "Daily report"}, kpi.Week: {"经营周报", "Weekly report"},
	kpi.Month: {"经营月报", "Monthly report"}}

// render is one reader's card of a digest run: the run's figures (computed
// once per run) in the reader's language and zone, with the chart.
func (k *kpiSide) render(ctx context.Context, s digest.Schedule, run time.Time, r bot.Reader) (bot.Card, error) {
	d, ok := k.digests[s.Name]
	if !ok {
		return bot.Card{}, queue.Permanent(fmt.Errorf("kpi: no digest %q", s.Name))
	}
	figs, err := k.runFigures(ctx, d, run)
	if err != nil {
		return bot.Card{}, err
	}
	en := r.Locale == bot.LocaleEN
	p, _ := d.PeriodAt(run)
	title := digestTitles[p][0]
	if en {
		title = digestTitles[p][1]
	}
	var shown []kpi.Figure
	var drawn *kpi.Figure
	for i, f := range figs {
		if f.KPI.Name == d.Chart {
			drawn = &figs[i]
		}
		for _, name := range d.KPIs {
			if f.KPI.Name == name {
				shown = append(shown, f)
			}
		}
	}
	card := kpi.FiguresCard(shown, title, r)
	if drawn != nil {
		img, err := k.chartOf(*drawn, r)
		if err != nil {
			// A digest without its picture still says what it must.
			k.log.Warn("digest chart not drawn", "digest", d.Name, "err", err)
		} else {
			card.Image = img
		}
	}
	return card, nil
}

// runFigures computes a run's figures once, however many recipients ask;
// the cache keeps the latest runs only.
func (k *kpiSide) runFigures(ctx context.Context, d kpi.Digest, run time.Time) ([]kpi.Figure, error) {
	key := d.Name + "/" + run.UTC().Format(time.RFC3339)
	k.mu.Lock()
	r, ok := k.runs[key]
	if !ok {
		if len(k.runs) >= 64 {
			clear(k.runs)
		}
		r = &digestRun{}
		k.runs[key] = r
	}
	k.mu.Unlock()
	r.once.Do(func() {
		names := append([]string(nil), d.KPIs...)
		if d.Chart != "" && !slices.Contains(names, d.Chart) {
			names = append(names, d.Chart)
		}
		p, at := d.PeriodAt(run)
		r.figs, r.err = k.board.Figures(ctx, names, p, at, d.Zone)
	})
	if r.err != nil {
		k.mu.Lock()
		delete(k.runs, key) // computed again by the retry
		k.mu.Unlock()
	}
	return r.figs, r.err
}

// chartOf is the image of a figure's series, signed for any instance to
// draw.
func (k *kpiSide) chartOf(f kpi.Figure, r bot.Reader) (*bot.Image, error) {
	en := r.Locale == bot.LocaleEN
	zone := r.Zone
	if zone == nil {
		zone = kpi.China
	}
	label := f.KPI.Label
	if en && f.KPI.LabelEN != "" {
		label = f.KPI.LabelEN
	}
	spec := chart.Spec{Title: label, Unit: chart.Unit(f.KPI.Unit), Series: []chart.Series{{}}}
	if en {
		spec.Locale = "en"
	}
	for _, pt := range f.Series {
		layout := "01/02"
		if f.Period == kpi.Month {
			layout = "2006/01"
		}
		spec.Labels = append(spec.Labels, pt.From.In(zone).Format(layout))
		v := math.NaN()
		if pt.V.Known {
			v = pt.V.V.InexactFloat64() // a picture, not an amount
			if f.KPI.Unit == kpi.UnitPercent {
				v *= 100
			}
		}
		spec.Series[0].Values = append(spec.Series[0].Values, v)
	}
	url, err := k.signer.URL(k.cfg.Server.PublicURL, spec)
	if err != nil {
		return nil, err
	}
	alt := label + " · 近 " + fmt.Sprint(len(f.Series)) + " 期"
	if en {
		alt = label + " · last " + fmt.Sprint(len(f.Series)) + " periods"
	}
	return &bot.Image{URL: url, Alt: alt}, nil
}
