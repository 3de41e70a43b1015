package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"strings"
	"time"

	"cardflow/app"
	"cardflow/config"
	"cardflow/configs"
	"cardflow/internal/shopday"
)

// demoAddr is where the demo listens unless configured otherwise: loopback
// only, since it makes up its own API token and prints it.
const demoAddr = "127.0.0.1:8080"

// demoFlags are the demo's flags that set a configuration key.
var demoFlags = map[string]string{
	"addr":  "server.addr",
	"data":  "store.sqlite_path",
	"flows": "flows.dir",
	"org":   "flows.org_file",
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "Run cardflow on the embedded default — a SQLite file and an in-process queue —\n"+
		"with the example flows and org loaded, so the whole system works with no database,\n"+
		"no Redis and no credentials. It prints an API token and the curl commands to walk\n"+
		"an order through its approvals.\n\n"+
		"It reads the configuration as serve does (--config, or "+defaultConfigPath+" when it\n"+
		"exists, then CARDFLOW_<SECTION>_<KEY> variables) over its own defaults; a flag given\n"+
		"wins over both. It refuses store.dsn and queue.redis_url: it loads the example org\n"+
		"into its store, which must not be a shared one.", stderr)
	path := configFlag(fs)
	fs.String("addr", demoAddr, "listen address (server.addr)")
	fs.String("data", config.Default().Store.SQLitePath, "embedded store file, created when missing (store.sqlite_path)")
	fs.String("flows", defaultFlowsDir, "directory of flow definitions to load (flows.dir)")
	fs.String("org", defaultOrgFile, "org directory (users, roles, departments) to load (flows.org_file)")
	day := fs.Bool("shop-day", true, "play a small shop's day: orders on four platforms, a refund, low stock, an oversell, a digest")
	scale := fs.Float64("sla-scale", 1, "run SLA timers this many times faster, to watch them work: 60 makes a 2h SLA pass in 2m")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *scale < 1 || math.IsInf(*scale, 0) || math.IsNaN(*scale) {
		fmt.Fprintf(stderr, "cardflow demo: --sla-scale must be a finite number of at least 1, got %v\n", *scale)
		return 2
	}
	cfg, err := demoConfig(*path, os.LookupEnv, flagOverrides(fs, demoFlags))
	if err != nil {
		return invalidConfig(fs, stderr, err)
	}
	examples := demoExamples(cfg)
	if examples != nil && cfg.Source("orders.rules_file") == "default" {
		// The example flows come with the example order rules; other flows
		// would not have the fields these rules fill.
		cfg.Orders.RulesFile = "configs/order_rules.example.yaml"
	}
	if examples != nil && cfg.Source("kpi.file") == "default" {
		cfg.KPI.File = "configs/kpis.example.yaml"
	}
	if examples != nil && cfg.Source("orders.return_flow") == "default" {
		cfg.Orders.ReturnFlow = "return_exchange"
	}
	if cfg.Source("server.public_url") == "default" {
		cfg.Server.PublicURL = demoPublicURL(cfg.Server.Addr)
	}
	login, err := demoConsole(cfg)
	if err != nil {
		return invalidConfig(fs, stderr, err)
	}
	var secrets map[string]string
	if *day {
		secrets = shopDayConfig(cfg)
	}
	return serve(ctx, cfg, stderr, app.RunOptions{
		SLAScale:      *scale,
		OpenSimulator: true,
		Examples:      examples,
		OnReady: func(r app.Ready) {
			printDemoBanner(stdout, cfg, r, *scale, login, *day)
			if secrets != nil {
				go playShopDay(ctx, cfg, r, secrets, stderr)
			}
		},
	})
}

// shopDayConfig sets up the webhook sources the shop day posts to, with
// secrets made up for this run, unless the configuration names sources of
// its own; it returns nil then, and the day is not played.
func shopDayConfig(cfg *config.Config) map[string]string {
	if len(cfg.Orders.Sources) > 0 || len(cfg.Stock.Sources) > 0 {
		return nil
	}
	secrets := shopday.NewSecrets()
	orderSources, stockSources := shopday.Sources(secrets)
	for _, e := range orderSources {
		cfg.Orders.Sources = append(cfg.Orders.Sources, config.Secret(e))
	}
	for _, e := range stockSources {
		cfg.Stock.Sources = append(cfg.Stock.Sources, config.Secret(e))
	}
	if cfg.Source("stock.low_stock") == "default" {
		cfg.Stock.LowStock = shopday.LowStock
	}
	return secrets
}

// playShopDay plays the day against the demo once it listens.
func playShopDay(ctx context.Context, cfg *config.Config, r app.Ready, secrets map[string]string, stderr io.Writer) {
	log := cfg.Log.NewLogger(stderr).With("component", "shop-day")
	t := shopday.Target{BaseURL: "http://" + r.Addr.String(), Secrets: secrets, Log: log}
	if cfg.KPI.File == "configs/kpis.example.yaml" {
		// The example's evening digest covers today: the day just played.
		t.Digest = func(ctx context.Context) error { return r.SendDigest(ctx, "evening") }
	}
	if err := shopday.Play(ctx, t); err != nil && ctx.Err() == nil {
		log.Warn("the shop day did not play every step", "err", err)
	}
}

// demoBase is the demo's defaults, under the file, the environment and the
// flags: the embedded default on loopback with the example flows and org,
// text logs, and an API token made up for this run.
func demoBase() *config.Config {
	cfg := config.Default()
	cfg.Server.Addr = demoAddr
	cfg.Server.APITokens = []config.Secret{config.Secret("demo-" + rand.Text())}
	cfg.Flows.Dir = defaultFlowsDir
	cfg.Flows.OrgFile = defaultOrgFile
	cfg.Log.Format = "text"
	cfg.Sim.Enabled = true
	return cfg
}

// demoConfig reads and checks the demo's configuration; precedence is
// flags > environment > file > demoBase.
func demoConfig(path string, lookupEnv func(string) (string, bool), flags []config.Override) (*config.Config, error) {
	cfg, err := readConfig(path, demoBase(), lookupEnv, flags)
	if err != nil {
		return nil, err
	}
	var errs []error
	shared := []struct {
		key string
		set bool
	}{{"store.dsn", !cfg.Store.DSN.IsZero()}, {"queue.redis_url", !cfg.Queue.RedisURL.IsZero()}}
	for _, s := range shared {
		if key := s.key; s.set {
			errs = append(errs, fmt.Errorf("%s: the demo runs on the embedded store and in-process queue only, "+
				"since it loads the example org into its store: use cardflow serve, or set %s= (empty) for the demo (%s)",
				key, config.EnvVar(key), cfg.Source(key)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// flagOverrides turns the flags given on the command line (not those left
// at their defaults) into configuration overrides; keys maps flag names to
// key paths.
func flagOverrides(fs *flag.FlagSet, keys map[string]string) []config.Override {
	var out []config.Override
	fs.Visit(func(f *flag.Flag) {
		if key, ok := keys[f.Name]; ok {
			out = append(out, config.Override{Key: key, Value: f.Value.String(), Source: "flag --" + f.Name})
		}
	})
	return out
}

// demoPublicURL is where the demo's pages reach it, the simulator's cards
// linking to the console beside it: its listen address, or "" when that
// names no fixed port.
func demoPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// shopDayNote tells what the shop day plays, or nothing when it does not.
func shopDayNote(on bool) string {
	if !on {
		return ""
	}
	return `  A small shop's day plays over the next minute (--shop-day=false to skip it): paid orders
  from Tmall, JD, Pinduoduo and Douyin reach finance as cards, a refund opens a return for
  CS, socks run low and a cup oversells for the warehouse, then the day's KPI digest.

`
}

func printDemoBanner(w io.Writer, cfg *config.Config, r app.Ready, scale float64, login string, shopDay bool) {
	base := "http://" + r.Addr.String()
	var loaded []string
	for _, d := range r.Flows {
		loaded = append(loaded, fmt.Sprintf("%-20s v%d  %s", d.FlowID, d.Version, d.Name))
	}
	listen := base
	if src := cfg.Source("server.addr"); src != "default" {
		listen += " (server.addr from " + src + ")"
	}
	sla := "SLA timers run at their real pace (order_fulfilment's finance SLA is 2h): --sla-scale 3600 makes 2h pass in 2s."
	if scale > 1 {
		sla = fmt.Sprintf("SLA timers run %g× faster (--sla-scale): order_fulfilment's 2h finance SLA passes in %s,\n"+
			"its reminders come every %s; watch them in the log.",
			scale, scaled(2*time.Hour, scale), scaled(30*time.Minute, scale))
	}
	fmt.Fprintf(w, `
  Chat simulator:  %[6]s/sim/
  Web console:     %[6]s/console/   %[9]s

%[10]s  Pick 陈客服主管 (CS) and file an order of ¥6,800 with 发起审批; pick 钱多多 (finance) and
  approve it on her card; see 孙会计's copy change to 已由 钱多多 同意; approve as 周总监;
  complete the pack task as 郑仓管 with a tracking number; type 待办 or /help to the bot.

cardflow demo is running on %[1]s
(embedded store %[2]s, in-process queue).
%[3]s

Flows loaded from %[4]s:
  %[5]s

  health     %s/healthz
  readiness  %[6]s/readyz
  metrics    %[6]s/metrics

Walk an order through 订单履约 with the API (%[7]s):

  export CF=%[6]s/api/v1 TOKEN=%[8]s
  # 客服 陈 files an order of ¥6800: over 5000, so the sales director must approve too
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Idempotency-Key: demo-1' $CF/instances -d '{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"TM-1001","platform":"tmall","amount":"6800.00","items":[{"sku":"SKU-1","qty":2,"price":"3400.00"}]}}'
  # finance (any one of them: 或签) sees the task and approves it
  curl -s -H "Authorization: Bearer $TOKEN" "$CF/tasks?assignee=u_qian"
  curl -s -H "Authorization: Bearer $TOKEN" $CF/tasks/TASK_ID/decision -d '{"actor":"u_qian","action":"approve","comment":"到账已确认"}'
  # then u_zhou (sales director) approves, and u_zheng (warehouse) completes the pack task:
  curl -s -H "Authorization: Bearer $TOKEN" $CF/tasks/TASK_ID/decision -d '{"actor":"u_zheng","action":"complete","result":{"tracking_no":"SF123","carrier":"sf"}}'
  curl -s -H "Authorization: Bearer $TOKEN" "$CF/instances/INSTANCE_ID?viewer=u_chen"

Measure it: CARDFLOW_BENCH_TOKEN=$TOKEN cardflow bench --url %[6]s

Stop it with Ctrl-C. Production runs the same binary on PostgreSQL and Redis: see README.md.
`, listen, cfg.Store.SQLitePath, sla, r.FlowsFrom, strings.Join(loaded, "\n  "), base, tokenNote(cfg), tokenValue(cfg),
		consoleNote(cfg, login), shopDayNote(shopDay))
}

// tokenNote says where the banner's token comes from; tokenValue is what
// the banner sets $TOKEN to. A token the operator configured is never
// printed: the shell takes it from the variable.
func tokenNote(cfg *config.Config) string {
	switch {
	case len(cfg.Server.APITokens) == 0:
		return "CARDFLOW_SERVER_API_TOKENS is empty: make a token with cardflow tokens create --name demo --scope write"
	case cfg.Source("server.api_tokens") == "default":
		return "this run's token is below"
	}
	return "with the first token of CARDFLOW_SERVER_API_TOKENS"
}

func tokenValue(cfg *config.Config) string {
	if len(cfg.Server.APITokens) > 0 && cfg.Source("server.api_tokens") == "default" {
		return cfg.Server.APITokens[0].Reveal()
	}
	return `"${CARDFLOW_SERVER_API_TOKENS%%,*}"`
}

// scaled is how long d lasts at SLA scale s.
func scaled(d time.Duration, s float64) time.Duration {
	return time.Duration(float64(d) / s).Round(time.Millisecond)
}

// demoExamples are the examples embedded in the binary, which the demo
// loads when it finds no configs/ folder where it runs; nil when the flows
// or the org were configured, which must then exist.
func demoExamples(cfg *config.Config) fs.FS {
	if cfg.Source("flows.dir") != "default" || cfg.Source("flows.org_file") != "default" {
		return nil
	}
	return configs.Examples
}
