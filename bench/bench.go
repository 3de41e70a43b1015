// Package bench drives a running cardflow server over its HTTP API the way
// an integration does, and measures it: Clients concurrent clients each
// repeat one scenario (start an order, approve its finance task) for
// Duration, and the Report gives approvals per second and latency
// percentiles per kind of request. `cardflow bench` is its command line, so
// operators can measure their own deployment and the README's figure can be
// reproduced.
package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultClients  = 16
	DefaultDuration = 20 * time.Second
	DefaultFlow     = "order_fulfilment"
)

// requestTimeout bounds one request: a server that stops answering fails
// the run instead of hanging it.
const requestTimeout = 30 * time.Second

// failurePause is how long a client waits after a failed round, so a
// server that refuses connections or answers 503 is not hammered in a
// tight loop for the rest of the run.
const failurePause = 100 * time.Millisecond

// Options say what to drive and how hard.
type Options struct {
	// URL is the server's base URL, such as http://127.0.0.1:8080.
	URL string
	// Token is a bearer token the server accepts (server.api_tokens).
	Token string
	// Clients is how many clients run at once, each one request at a time;
	// 0 means DefaultClients.
	Clients int
	// Duration is how long clients start new rounds; rounds under way then
	// finish. 0 means DefaultDuration.
	Duration time.Duration
	// Flow names the scenario, by the flow it drives; "" means DefaultFlow.
	Flow string
	// HTTPClient, when set, sends the requests; by default one client whose
	// transport keeps a connection per bench client is shared by all.
	HTTPClient *http.Client
	// OnProgress, when set, is called every ProgressEvery while the clients
	// run, and once more when they are done, with the counts so far.
	OnProgress func(Progress)
	// ProgressEvery is the time between OnProgress calls; 0 means a second.
	ProgressEvery time.Duration
	// DrainWait is how long to wait, once the clients stop, for the server
	// to handle the notifications the run queued (Report.Backlog); 0 means
	// DefaultDrainWait, a negative value reads the queue once and does not
	// wait.
	DrainWait time.Duration
}

// Progress is how far a run is.
type Progress struct {
	Elapsed   time.Duration // since the first request
	Approvals int           // rounds that went through
	Failed    int           // failed requests
	Done      bool          // the clients are done: the last call
}

// ErrAborted says the run stopped at a failure that every further request
// would repeat: a wrong token or URL, a flow or user the server does not
// know. The Report says which.
var ErrAborted = errors.New("bench: aborted")

// Flows lists the flows bench has a scenario for.
func Flows() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Run drives the server until opts.Duration has passed (or ctx is done)
// and reports what it measured. Failed requests are counted in the Report,
// not returned; the error is for options that cannot run, or wraps
// ErrAborted when a failure made going on pointless.
func Run(ctx context.Context, opts Options) (Report, error) {
	opts, sc, err := opts.withDefaults()
	if err != nil {
		return Report{}, err
	}
	ctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	run := &runner{
		opts:   opts,
		sc:     sc,
		http:   opts.HTTPClient,
		base:   strings.TrimRight(opts.URL, "/") + "/api/v1",
		id:     strings.ToLower(rand.Text()[:8]),
		abort:  abort,
		fails:  map[string]*failure{},
		timing: map[string][]time.Duration{},
	}
	if run.http == nil {
		run.http = sharedClient(opts.Clients)
	}
	if err := run.preflight(ctx); err != nil {
		return Report{URL: opts.URL, Flow: opts.Flow, Clients: opts.Clients}, err
	}

	cpuStart, cpuKnown := run.cpuTime(ctx)
	start := time.Now()
	deadline := start.Add(opts.Duration)
	var wg sync.WaitGroup
	for c := range opts.Clients {
		wg.Go(func() { run.client(ctx, c, deadline) })
	}
	stop := make(chan struct{})
	var reporter sync.WaitGroup
	if opts.OnProgress != nil {
		reporter.Go(func() { run.progress(start, stop) })
	}
	wg.Wait()
	close(stop)
	reporter.Wait()
	report := run.report(time.Since(start))
	if cause := context.Cause(ctx); errors.Is(cause, ErrAborted) {
		return report, cause
	}
	report.Backlog = run.backlog(ctx)
	report.ServerCPU = run.serverCPU(ctx, cpuStart, cpuKnown, report.Backlog)
	return report, nil
}

func (o Options) withDefaults() (Options, scenario, error) {
	if o.Clients == 0 {
		o.Clients = DefaultClients
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Flow == "" {
		o.Flow = DefaultFlow
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.DrainWait == 0 {
		o.DrainWait = DefaultDrainWait
	}
	var errs []error
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		errs = append(errs, fmt.Errorf("bench: URL must start with http:// or https://, got %q", o.URL))
	}
	if o.Token == "" {
		errs = append(errs, errors.New("bench: a bearer token is required"))
	}
	if o.Clients < 1 {
		errs = append(errs, fmt.Errorf("bench: clients must be at least 1, got %d", o.Clients))
	}
	if o.Duration < 0 {
		errs = append(errs, fmt.Errorf("bench: duration must be positive, got %s", o.Duration))
	}
	sc, ok := scenarios[o.Flow]
	if !ok {
		errs = append(errs, fmt.Errorf("bench: no scenario for flow %q: use one of %s", o.Flow, strings.Join(Flows(), ", ")))
	}
	return o, sc, errors.Join(errs...)
}

// sharedClient keeps one idle connection per bench client, so every round
// reuses a connection instead of opening one (Go's default keeps two).
func sharedClient(clients int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = clients
	tr.MaxIdleConnsPerHost = clients
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

// runner is one run's shared state.
type runner struct {
	opts  Options
	sc    scenario
	http  *http.Client
	base  string // the API's base URL
	id    string // this run's id, in idempotency keys and order numbers
	abort context.CancelCauseFunc

	// done and failed count rounds through and failed requests as they
	// happen, for progress; the report is built from the merged counts.
	done, failed atomic.Int64

	mu        sync.Mutex
	approvals int
	timing    map[string][]time.Duration // by request kind
	fails     map[string]*failure        // by kind, status and code
}

// failure counts one kind of failed request and keeps the first message.
type failure struct {
	count int
	first string
}

// client runs rounds until the deadline, recording its latencies locally
// and merging them at the end, so clients do not contend on a lock.
func (r *runner) client(ctx context.Context, c int, deadline time.Time) {
	timing := map[string][]time.Duration{}
	approvals := 0
	for n := 0; ctx.Err() == nil && time.Now().Before(deadline); n++ {
		ok := r.round(ctx, c, n, func(kind string, d time.Duration) {
			timing[kind] = append(timing[kind], d)
		})
		if ok {
			approvals++
			r.done.Add(1)
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(failurePause):
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.approvals += approvals
	for kind, ds := range timing {
		r.timing[kind] = append(r.timing[kind], ds...)
	}
}

// progress calls OnProgress every ProgressEvery until stop is closed, then
// once more with the final counts.
func (r *runner) progress(start time.Time, stop <-chan struct{}) {
	tick := time.NewTicker(r.opts.ProgressEvery)
	defer tick.Stop()
	report := func(done bool) {
		r.opts.OnProgress(Progress{Elapsed: time.Since(start), Approvals: int(r.done.Load()), Failed: int(r.failed.Load()),
			Done: done})
	}
	for {
		select {
		case <-stop:
			report(true)
			return
		case <-tick.C:
			report(false)
		}
	}
}

// preflight asks the server's /healthz once, so a wrong URL or a server
// that is not up stops the run at once instead of failing every request.
func (r *runner) preflight(ctx context.Context) error {
	url := strings.TrimRight(r.opts.URL, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrAborted, url, err)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: the server does not answer: %v", ErrAborted, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s answered %s", ErrAborted, url, resp.Status)
	}
	return nil
}

// fail records a failed request. A failure the next request would repeat
// (the server refused the token, the route, the flow or a user) aborts the
// run.
func (r *runner) fail(ctx context.Context, kind string, e *requestError) {
	if ctx.Err() != nil {
		return // cancelled by the caller or by an abort: not the server's fault
	}
	r.failed.Add(1)
	key := kind + " " + e.label()
	r.mu.Lock()
	f := r.fails[key]
	if f == nil {
		f = &failure{first: e.Error()}
		r.fails[key] = f
	}
	f.count++
	r.mu.Unlock()
	if e.repeats() {
		r.abort(fmt.Errorf("%w: %s: %s", ErrAborted, key, e.Error()))
	}
}
