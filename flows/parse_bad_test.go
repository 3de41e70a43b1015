package flows

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseFlowBad pins the exact message of every problem of every bad
// fixture: all problems of a file are reported at once, in line order.
func TestParseFlowBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want []string
	}{
		{
			name: "alert",
			want: []string{
				"alert.yaml:9: step page: dedupe_key is required: it tells a repeated event from a new alert",
				"alert.yaml:12: step page: group_by: \"warehouse\" is not a form field",
				"alert.yaml:12: step page: group_by: \"rows\" is not a form field",
				"alert.yaml:13: step page: group_wait: must be positive, got 0s",
				"alert.yaml:16: step page: escalation #2: after must be later than the level before (1h)",
				"alert.yaml:17: step page: escalation #3: after is required",
				"alert.yaml:18: step page: escalation #4: assignees is required",
				"alert.yaml:19: step page: auto_resolve_on must name an event",
			},
		},
		{
			name: "assignees",
			want: []string{
				"assignees.yaml:9: step two_kinds: assignees: a rule has exactly one of user, role, department_head, manager_of, form_field; got user and role (list them as separate rules)",
				"assignees.yaml:12: step no_kind: assignees: a rule needs one of user, role, department_head, manager_of, form_field",
				"assignees.yaml:15: step unknown_key: assignees: unknown key \"dept\" (want one of department_head, form_field, levels, manager_of, role, user)",
				"assignees.yaml:18: step levels: assignees: levels must be 1 to 10, got 11",
				"assignees.yaml:18: step levels: assignees: levels applies only to manager_of",
				"assignees.yaml:18: step levels: assignees: levels: expected a whole number, got \"two\"",
				"assignees.yaml:21: step manager_of_user: assignees: manager_of must be \"applicant\", got \"u_li\"",
				"assignees.yaml:24: step form_field: assignees: form_field \"seller\" is not a form field",
				"assignees.yaml:24: step form_field: assignees: form_field \"note\" has type string; it must have type user",
				"assignees.yaml:27: step empty_list: assignees: must list at least one rule",
				"assignees.yaml:28: step missing: assignees is required",
				"assignees.yaml:32: step bad_shape: assignees: expected a mapping, got \"finance\"",
				"assignees.yaml:35: step empty_value: assignees: role must not be empty",
				"assignees.yaml:36: step empty_value: cc: department_head: expected a single value, got null",
			},
		},
		{
			name: "branches",
			want: []string{
				"branches.yaml:9: step lonely: a parallel step needs at least 2 branches",
				"branches.yaml:14: step weird: branch #1: at least one step is required",
				"branches.yaml:15: step weird: branch #2: steps is required",
				"branches.yaml:16: step weird: branch #3: expected a list of steps, got \"not a list\"",
				"branches.yaml:17: step none: branches is required",
				"branches.yaml:22: step route: branch #1: when is required (use default for the otherwise branch)",
				"branches.yaml:23: step route: branch #2: goto is required",
				"branches.yaml:24: step route: unknown key \"next\" (want one of branches, default, id, name, name_en, type, when)",
				"branches.yaml:27: step empty_route: a condition step needs at least 1 branch",
			},
		},
		{
			name: "cycle",
			want: []string{
				"cycle.yaml:29: step spin: cycle with no way to end through steps spin",
				"cycle.yaml:33: step ping: cycle with no way to end through steps ping, pong",
			},
		},
		{
			name: "duplicate_keys",
			want: []string{
				"duplicate_keys.yaml:3: flow: duplicate key \"name\" (first at line 2)",
				"duplicate_keys.yaml:7: step #1: duplicate key \"type\" (first at line 6)",
			},
		},
		{
			name: "empty",
			want: []string{
				"empty.yaml: empty file",
			},
		},
		{
			name: "fields",
			want: []string{
				"fields.yaml:10: step a: fields: cost: unknown access \"secret\" (want editable, read_only or hidden)",
				"fields.yaml:10: step a: fields: \"price\" is not a form field",
				"fields.yaml:14: step b: fields: expected a mapping, got a list",
			},
		},
		{
			name: "flow_keys",
			want: []string{
				"flow_keys.yaml:1: flow: id must be lower_snake_case (a-z, 0-9, _), starting with a letter",
				"flow_keys.yaml:1: flow: name is required",
				"flow_keys.yaml:1: flow: steps is required",
				"flow_keys.yaml:2: flow: version is given by the store from the file's hash; remove it",
				"flow_keys.yaml:3: flow: unknown key \"owner\" (want one of description, form, id, name, name_en, rules, settings, steps, title, title_en, trigger, version)",
				"flow_keys.yaml:4: trigger: unknown key \"filter\" (want event)",
				"flow_keys.yaml:5: flow: description: expected a single value, got a list",
			},
		},
		{
			name: "form",
			want: []string{
				"form.yaml:4: form field a: unknown field type \"strin\" (want string, text, number, money, date, enum, bool, user, attachment and table)",
				"form.yaml:5: form field b: an enum needs options",
				"form.yaml:6: form field c: option \"x\" is listed twice",
				"form.yaml:6: form field c: options must not be empty",
				"form.yaml:7: form field d: min applies only to number and money fields",
				"form.yaml:7: form field d: options applies only to enum fields",
				"form.yaml:8: form field e: max 1 is less than min 10",
				"form.yaml:9: form field f: pattern: error parsing regexp: missing closing ]: `[a-z`",
				"form.yaml:10: form field g: a table needs columns",
				"form.yaml:11: form field h column inner: a table column cannot be a table",
				"form.yaml:11: form field h column x: duplicate key (first at line 11)",
				"form.yaml:12: form field a: duplicate key (first at line 4)",
				"form.yaml:13: form field Bad-Key: key must be lower_snake_case (a-z, 0-9, _), starting with a letter",
				"form.yaml:14: form field i: min: money has at most 2 decimal places, got 0.001",
				"form.yaml:14: form field i: max: expected a number, got \"abc\"",
				"form.yaml:15: form field j: unknown key \"color\" (want one of columns, help, key, label, label_en, max, max_length, max_rows, min, option_labels, option_labels_en, options, pattern, required, type)",
				"form.yaml:15: form field j: max_length must be at least 1, got 0",
				"form.yaml:16: form field: key is required",
				"form.yaml:17: form field k: type is required",
				"form.yaml:18: form field l: required: expected true or false, got \"yes\"",
				"form.yaml:19: form field m: option_labels: \"z\" is not one of the options",
				"form.yaml:19: form field m: option_labels: the label of \"y\" must be text",
				"form.yaml:20: form field n: option_labels applies only to enum fields",
			},
		},
		{
			name: "graph",
			want: []string{
				"graph.yaml:10: step orphan: unreachable: no step leads here",
				"graph.yaml:13: step orphan_tail: unreachable: no step leads here",
				"graph.yaml:17: step b: unreachable: no step leads here",
			},
		},
		{
			name: "no_steps",
			want: []string{
				"no_steps.yaml:4: flow: steps: at least one step is required",
			},
		},
		{
			name: "not_mapping",
			want: []string{
				"not_mapping.yaml:1: flow: expected a mapping, got a list",
			},
		},
		{
			name: "settings",
			want: []string{
				"settings.yaml:4: settings: auto_skip: unknown key \"self\" (want one of applicant, repeated)",
				"settings.yaml:4: settings: auto_skip: applicant: expected true or false, got \"true\"",
				"settings.yaml:4: settings: auto_skip: repeated: expected true or false, got \"1\"",
				"settings.yaml:5: settings: fallback: a rule has exactly one of user, role, department_head, manager_of, form_field; got user and role (list them as separate rules)",
				"settings.yaml:6: settings: urge_interval: invalid duration \"soon\" (use e.g. 30m, 2h, 3d, 1d12h)",
				"settings.yaml:7: settings: unknown key \"dedupe\" (want one of auto_skip, fallback, urge_interval)",
			},
		},
		{
			name: "sign",
			want: []string{
				"sign.yaml:4: step a: sign: unknown sign mode \"majority\" (want single, any, all or percent:N)",
				"sign.yaml:5: step b: sign: percent must be a whole number from 1 to 100, got \"percent:0\"",
				"sign.yaml:6: step c: sign: percent must be a whole number from 1 to 100, got \"percent:101\"",
				"sign.yaml:7: step d: sign: percent must be a whole number from 1 to 100, got \"percent:half\"",
				"sign.yaml:8: step e: sequential approval (依次审批) needs sign: all, got sign: any",
				"sign.yaml:9: step f: sequential: expected true or false, got \"yes\"",
				"sign.yaml:10: step g: unknown key \"sign\" (want one of assignees, cc, fields, id, name, name_en, next, on_timeout, result_form, return_to, sla, type, when)",
			},
		},
		{
			name: "step_types",
			want: []string{
				"step_types.yaml:5: step a: unknown step type \"approve\" (want approval, task, notify, alert, parallel or condition)",
				"step_types.yaml:7: step b: type is required",
				"step_types.yaml:9: step a: duplicate step id (first at line 4)",
				"step_types.yaml:12: step end: id \"end\" is reserved",
				"step_types.yaml:18: step c: unknown key \"sign\" (want one of assignees, fields, id, name, name_en, next, type, when)",
				"step_types.yaml:19: step c: unknown key \"asignees\" (want one of assignees, fields, id, name, name_en, next, type, when)",
				"step_types.yaml:20: step #6: id is required",
				"step_types.yaml:22: step #7: expected a mapping, got \"just a string\"",
			},
		},
		{
			name: "syntax",
			want: []string{
				"syntax.yaml:2: yaml: did not find expected ',' or ']'",
			},
		},
		{
			name: "syntax_indent",
			want: []string{
				"syntax_indent.yaml:4: yaml: did not find expected key",
			},
		},
		{
			name: "targets",
			want: []string{
				"targets.yaml:9: step first: next: unknown step \"nowhere\"",
				"targets.yaml:10: step first: return_to: \"second\" is not an earlier approval or task step",
				"targets.yaml:10: step first: return_to: \"notify_cs\" is not an earlier approval or task step",
				"targets.yaml:10: step first: return_to: unknown step \"ghost\"",
				"targets.yaml:20: step route: branch #1: goto: step \"inner\" is in another step list (targets must stay in the same list or parallel branch)",
				"targets.yaml:21: step route: branch #2: goto: unknown step \"missing\"",
				"targets.yaml:22: step route: default: unknown step \"ghost\"",
				"targets.yaml:29: step inner: next: step \"second\" is in another step list (targets must stay in the same list or parallel branch)",
				"targets.yaml:30: step inner: return_to: \"other\" is not an earlier approval or task step",
				"targets.yaml:34: step other: return_to: \"notify_cs\" is not an earlier approval or task step",
			},
		},
		{
			name: "timeout",
			want: []string{
				"timeout.yaml:7: step no_sla: on_timeout: needs sla: the timeout counts from the SLA deadline",
				"timeout.yaml:12: step task_auto: on_timeout: escalate_after needs escalate_to",
				"timeout.yaml:12: step task_auto: on_timeout: auto_action applies only to approval steps",
				"timeout.yaml:17: step bad_action: on_timeout: unknown key \"remind\" (want one of auto_action, auto_action_after, escalate_after, escalate_to, remind_every, remind_max)",
				"timeout.yaml:17: step bad_action: on_timeout: auto_action_after: invalid duration \"1x\" (use e.g. 30m, 2h, 3d, 1d12h)",
				"timeout.yaml:17: step bad_action: on_timeout: auto_action must be approve or reject, got \"approve_all\"",
				"timeout.yaml:21: step empty: sla: must be positive, got -2h",
				"timeout.yaml:22: step empty: on_timeout: set at least one of remind_every, escalate_to, auto_action",
				"timeout.yaml:26: step words: sla: invalid duration \"two days\" (use e.g. 30m, 2h, 3d, 1d12h)",
				"timeout.yaml:31: step remind_cap: on_timeout: remind_max needs remind_every",
				"timeout.yaml:36: step remind_cap_range: on_timeout: remind_max must be 1 to 1000, got 0",
			},
		},
		{
			name: "when",
			want: []string{
				"when.yaml:10: step a: when: unknown form field \"amout\" (column 6)",
				"when.yaml:11: step b: when: expected bool, but got money",
				"when.yaml:12: step c: when: unexpected token EOF (column 13)",
				"when.yaml:13: step d: when: invalid operation: > (mismatched types string and int) (column 15)",
				"when.yaml:14: step e: when: unknown name amount (did you mean form.amount?) (column 1)",
				"when.yaml:15: step f: when: results: no task step \"nothing\" with a result_form (column 9)",
				"when.yaml:17: step h: when: step g's result_form has no field \"missing\" (column 11)",
				"when.yaml:18: step i: when: invalid operation: > (mismatched types money and string) (column 13)",
				"when.yaml:19: step j: when: expected an expression, got a list",
				"when.yaml:20: step k: when: row of items has no field \"qtty\" (column 18)",
			},
		},
		{
			name: "title",
			want: []string{
				"title.yaml:3: flow: title: {items} is a table; name a single field",
				"title.yaml:3: flow: title: {ghost} is not a field of the form",
				"title.yaml:3: flow: title: write a placeholder as {field_key}, lower_snake_case",
				"title.yaml:3: flow: title: {cost} is hidden at step check, and a title is shown to everyone",
			},
		},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "flows", "bad", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, tests, len(files), "every bad fixture has a table entry")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := parseFixture(t, "bad", tt.name)
			require.Nil(t, f)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.want, strings.Split(err.Error(), "\n"))
			require.Len(t, ve.Problems, len(tt.want))
		})
	}
}
