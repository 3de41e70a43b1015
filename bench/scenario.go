package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Request kinds, as the Report names them.
const (
	KindStart   = "start"   // POST /api/v1/instances
	KindApprove = "approve" // POST /api/v1/tasks/{id}/decision
)

// scenario says how to start one instance of a flow whose first step is an
// approval: who applies and with what form.
type scenario struct {
	applicant string
	form      func(orderNo string) map[string]any
}

// scenarios are the flows bench can drive. order_fulfilment: customer
// service (u_chen in the example org) files an order under 5,000, so only
// finance approves it (或签: any one of them) before it goes to the
// warehouse.
var scenarios = map[string]scenario{
	"order_fulfilment": {
		applicant: "u_chen",
		form: func(orderNo string) map[string]any {
			return map[string]any{
				"order_no": orderNo,
				"platform": "tmall",
				"amount":   "88.00",
				"items":    []any{map[string]any{"sku": "SKU-BENCH", "qty": 1, "price": "88.00"}},
			}
		},
	},
}

// startAnswer is what a round reads of POST /api/v1/instances's answer.
type startAnswer struct {
	Result struct {
		Opened []string `json:"opened"`
	} `json:"result"`
	Instance struct {
		Tasks []struct {
			ID       string `json:"id"`
			Assignee string `json:"assignee"`
		} `json:"tasks"`
	} `json:"instance"`
}

// decisionAnswer is what a round reads of a decision's answer.
type decisionAnswer struct {
	Result struct {
		Outcome        string `json:"outcome"`
		AlreadyDecided bool   `json:"already_decided"`
	} `json:"result"`
}

// round starts one instance and approves the task its first step opened,
// as that task's assignee; the opened tasks take turns, so every approver
// of a 或签 step gets work. It reports whether the approval went through.
func (r *runner) round(ctx context.Context, client, n int, observe func(kind string, d time.Duration)) bool {
	name := fmt.Sprintf("%d-%d", client, n)
	orderNo := strings.ToUpper("BENCH-" + r.id + "-" + name)
	var started startAnswer
	body := map[string]any{"flow_id": r.opts.Flow, "applicant": r.sc.applicant, "form": r.sc.form(orderNo)}
	if !r.call(ctx, KindStart, "/instances", "bench-"+r.id+"-"+name+"-start", http.StatusCreated, body, &started, observe) {
		return false
	}
	assignee := map[string]string{}
	for _, t := range started.Instance.Tasks {
		assignee[t.ID] = t.Assignee
	}
	if len(started.Result.Opened) == 0 {
		r.fail(ctx, KindStart, &requestError{reason: "the instance opened no task to approve"})
		return false
	}
	task := started.Result.Opened[(client+n)%len(started.Result.Opened)]
	if assignee[task] == "" {
		r.fail(ctx, KindStart, &requestError{reason: "the answer does not say who holds task " + task})
		return false
	}

	var decided decisionAnswer
	body = map[string]any{"actor": assignee[task], "action": "approve"}
	if !r.call(ctx, KindApprove, "/tasks/"+task+"/decision", "bench-"+r.id+"-"+name+"-approve", http.StatusOK, body, &decided, observe) {
		return false
	}
	if decided.Result.Outcome != "approve" || decided.Result.AlreadyDecided {
		r.fail(ctx, KindApprove, &requestError{reason: fmt.Sprintf("task %s was not approved by this request: outcome %q, already decided %t",
			task, decided.Result.Outcome, decided.Result.AlreadyDecided)})
		return false
	}
	return true
}

// call POSTs body as JSON with an idempotency key and decodes the answer
// into out when it has status want; it observes the latency of every
// answered request and records every failure.
func (r *runner) call(ctx context.Context, kind, path, key string, want int, body, out any,
	observe func(string, time.Duration)) bool {
	payload, err := json.Marshal(body)
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+path, bytes.NewReader(payload))
	if err != nil {
		r.fail(ctx, kind, &requestError{reason: err.Error(), fatal: true})
		return false
	}
	req.Header.Set("Authorization", "Bearer "+r.opts.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)

	began := time.Now()
	resp, err := r.http.Do(req)
	if err != nil {
		r.fail(ctx, kind, &requestError{reason: err.Error()})
		return false
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		r.fail(ctx, kind, &requestError{reason: "reading the answer: " + err.Error()})
		return false
	}
	observe(kind, time.Since(began))
	if resp.StatusCode != want {
		r.fail(ctx, kind, answerError(resp.StatusCode, answer))
		return false
	}
	if err := json.Unmarshal(answer, out); err != nil {
		r.fail(ctx, kind, &requestError{status: resp.StatusCode, reason: "undecodable answer: " + err.Error()})
		return false
	}
	return true
}

// requestError is one failed request: the HTTP status and error code of
// the answer (0 and "" when there was none) and why.
type requestError struct {
	status int
	code   string
	reason string
	fatal  bool // every further request would fail the same way
}

func (e *requestError) Error() string { return e.reason }

// label groups failures in the report: "401 unauthorized", "transport".
func (e *requestError) label() string {
	switch {
	case e.status == 0 && e.code == "":
		return "error"
	case e.code == "":
		return fmt.Sprint(e.status)
	}
	return fmt.Sprintf("%d %s", e.status, e.code)
}

// repeats reports whether every further request would fail the same way:
// a client error other than a timeout, a conflict or a rate limit says the
// token, the URL, the flow or the org does not fit this server.
func (e *requestError) repeats() bool {
	if e.fatal {
		return true
	}
	switch e.status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return false
	}
	return e.status >= 400 && e.status < 500
}

// answerError reads the API's {"error":{"code","message"}} from an answer.
func answerError(status int, answer []byte) *requestError {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e := &requestError{status: status, reason: fmt.Sprintf("HTTP %d", status)}
	if json.Unmarshal(answer, &body) == nil && body.Error.Code != "" {
		e.code = body.Error.Code
		e.reason = fmt.Sprintf("HTTP %d %s: %s", status, body.Error.Code, body.Error.Message)
	}
	return e
}
