package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"cardflow/app"
	"cardflow/config"
)

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "Run cardflow on the embedded default — a SQLite file and an in-process queue —\n"+
		"with the example flows and org loaded, so the whole system works with no database,\n"+
		"no Redis and no credentials. It prints an API token and the curl commands to walk\n"+
		"an order through its approvals.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	data := fs.String("data", "./data/cardflow.db", "embedded store file (created when missing)")
	flowsDir := fs.String("flows", defaultFlowsDir, "directory of flow definitions to load")
	orgFile := fs.String("org", defaultOrgFile, "org directory (users, roles, departments) to load")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg := demoConfig(*addr, *data, *flowsDir, *orgFile)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "cardflow demo: %v\n", err)
		return 2
	}
	return serve(cfg, stderr, func(r app.Ready) { printDemoBanner(stdout, cfg, r) })
}

// demoConfig is the embedded default with the example flows and org, text
// logs, and an API token made up for this run.
func demoConfig(addr, data, flowsDir, orgFile string) *config.Config {
	cfg := config.Default()
	cfg.Server.Addr = addr
	cfg.Server.APITokens = []config.Secret{config.Secret("demo-" + rand.Text())}
	cfg.Store.SQLitePath = data
	cfg.Flows.Dir = flowsDir
	cfg.Flows.OrgFile = orgFile
	cfg.Log.Format = "text"
	return cfg
}

func printDemoBanner(w io.Writer, cfg *config.Config, r app.Ready) {
	base := "http://" + r.Addr.String()
	var loaded []string
	for _, d := range r.Flows {
		loaded = append(loaded, fmt.Sprintf("%-20s v%d  %s", d.FlowID, d.Version, d.Name))
	}
	fmt.Fprintf(w, `
cardflow demo is running (embedded store %s, in-process queue).

Flows loaded from %s:
  %s

  health     %s/healthz
  readiness  %[4]s/readyz
  metrics    %[4]s/metrics

Walk an order through 订单履约 with the API (this run's token is below):

  export CF=%[4]s/api/v1 TOKEN=%s
  # 客服 陈 files an order of ¥6800: over 5000, so the sales director must approve too
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Idempotency-Key: demo-1' $CF/instances -d '{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"TM-1001","platform":"tmall","amount":"6800.00","items":[{"sku":"SKU-1","qty":2,"price":"3400.00"}]}}'
  # finance (any one of them: 或签) sees the task and approves it
  curl -s -H "Authorization: Bearer $TOKEN" "$CF/tasks?assignee=u_qian"
  curl -s -H "Authorization: Bearer $TOKEN" $CF/tasks/TASK_ID/decision -d '{"actor":"u_qian","action":"approve","comment":"到账已确认"}'
  # then u_zhou (sales director) approves, and u_zheng (warehouse) completes the pack task:
  curl -s -H "Authorization: Bearer $TOKEN" $CF/tasks/TASK_ID/decision -d '{"actor":"u_zheng","action":"complete","result":{"tracking_no":"SF123","carrier":"sf"}}'
  curl -s -H "Authorization: Bearer $TOKEN" "$CF/instances/INSTANCE_ID?viewer=u_chen"

Stop it with Ctrl-C. Production runs the same binary on PostgreSQL and Redis: see README.md.
`, cfg.Store.SQLitePath, cfg.Flows.Dir, strings.Join(loaded, "\n  "), base, cfg.Server.APITokens[0].Reveal())
}
