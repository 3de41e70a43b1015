// Package flows is cardflow's domain: flow definitions, the engine that runs
// them, and the store contract it needs. It imports no HTTP, SQL driver or
// chat SDK; the API (server/api) and the chat side (bot) call it, and the
// stores (storage/postgres, storage/sqlite) implement its Store.
//
// A map of its files:
//
//   - Definitions. parse.go, parse_step.go, parse_branch.go, decode.go read a
//     flow file with line numbers; validate.go checks it as a whole;
//     definition.go holds the parsed Flow and Step; form.go, formtype.go,
//     formvalue.go, formview.go, formusers.go validate forms (money is
//     exact: money.go) and honour each step's field access; condition.go
//     and exprenv.go compile `when` conditions (expr); title.go builds
//     instance titles; graph.go draws a flow as Mermaid; load.go loads a
//     directory.
//   - The org directory. org.go parses the org file, org_proxy.go its leave
//     proxies (代理) and their API; resolve.go, resolve_org.go and
//     assignee.go resolve who acts at a step; resolve_proxy.go who may act
//     for whom; checkorg.go checks flows against the org.
//   - The engine. engine.go holds the Engine and mutate, the one path every
//     operation takes: build a Change on fresh state, Apply it in one store
//     transaction (instance, tasks, timers, audit, outbox) guarded by the
//     instance's version, retry on a lost race, and bind idempotency keys to
//     their request (engine_result.go). engine_run.go is the run a change is
//     built in; engine_state.go its JSON state; engine_walk.go moves an
//     instance from step to step (skips, conditions, parallel branches, CC);
//     engine_sign.go settles a step by its sign mode (或签, 会签, percent,
//     依次审批). forecast.go answers which steps and people a start would
//     go through without starting it (Engine.Forecast): it walks a run
//     Start would build, decides every waiting step in favour, never
//     applies the change, and forecast_read.go reads the path from the
//     run's audit trail.
//   - Operations, one file per family: ops_start.go (start), ops_decide.go
//     (approve, reject, complete), ops_return.go (退回 return and resubmit),
//     ops_assign.go (转交 transfer, 委派 delegate, 加签/减签), ops_instance.go
//     (撤回 withdraw, cancel, comment, 催办 urge), ops_task.go (the task an
//     operation acts on, edits and their 修改记录), ops_read.go (views and
//     to-do lists). action.go is the one action vocabulary and Engine.Act,
//     the dispatch the API and the chat platforms share.
//   - Time. engine_timers.go writes a step's SLA timers when it starts;
//     timer_worker.go claims due timers from the store (once across server
//     instances) and ops_timer.go fires them: reminders, escalation,
//     auto-actions. duration.go reads "2h", "3d".
//   - Alerts. alert_route.go turns events into alert groups (dedupe,
//     grouping), alert.go runs them, alert_ops.go acknowledges, snoozes and
//     resolves, alert_timers.go repeats and escalates.
//   - What leaves the engine. notify.go builds the notification intents a
//     change commits to the outbox; errtext.go gives every error a stable
//     code and a text in Chinese and English; input.go bounds the text a
//     request may carry.
package flows
