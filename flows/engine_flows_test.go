package flows_test

// testFlows are small flows for one feature each, on the example org
// (configs/org.example.yaml): finance is u_zhao (also finance_lead), u_qian
// and u_sun; u_wu is a salesman under u_zhou under u_wang; u_chu works in
// customer service under its head u_chen; u_shen is the admin.
var testFlows = map[string]string{
	"sign_any":     signFlow("sign_any", "sign: any"),
	"sign_all":     signFlow("sign_all", "sign: all"),
	"sign_single":  signFlow("sign_single", "sign: single"),
	"sign_percent": signFlow("sign_percent", "sign: percent:60"),
	"sign_seq":     signFlow("sign_seq", "sequential: true"),
	"skip": joinLines(
		"id: skip",
		"name: 自动去重",
		"settings: {auto_skip: {applicant: true, repeated: true}}",
		"form: [{key: note, type: string}]",
		"steps:",
		"  - {id: first, type: approval, assignees: {user: u_zhao}}",
		"  - {id: both, type: approval, assignees: [{user: u_zhao}, {user: u_qian}], sign: all}",
		"  - {id: last, type: task, assignees: {user: u_feng}}",
	),
	"rules": joinLines(
		"id: rules",
		"name: 审批人规则",
		"form: [{key: who, type: user, required: true}]",
		"steps:",
		"  - {id: by_user, type: approval, assignees: {user: u_wei}}",
		"  - {id: by_role, type: approval, assignees: {role: warehouse}, sign: all}",
		"  - {id: by_head, type: approval, assignees: {department_head: applicant}}",
		"  - {id: by_dept, type: approval, assignees: {department_head: finance}}",
		"  - {id: by_managers, type: approval, assignees: {manager_of: applicant, levels: 2}, sign: all}",
		"  - {id: by_field, type: approval, assignees: {form_field: who}}",
		"  - {id: by_nobody, type: approval, assignees: {role: ghost}}",
	),
	"no_fallback": joinLines(
		"id: no_fallback",
		"name: 无人可派",
		"settings: {fallback: {role: ghost}}",
		"form: [{key: note, type: string}]",
		"steps:",
		"  - {id: s, type: approval, assignees: {role: ghost}}",
	),
}

// signFlow is an approval step s of u_qian, u_sun and u_zhao (and u_wang
// for percent) deciding by sign, then a task next for u_feng.
func signFlow(id, sign string) string {
	users := "[{user: u_qian}, {user: u_sun}, {user: u_zhao}]"
	if sign == "sign: percent:60" {
		users = "[{user: u_qian}, {user: u_sun}, {user: u_zhao}, {user: u_wang}]"
	}
	if sign == "sign: single" {
		users = "{user: u_qian}"
	}
	return joinLines(
		"id: "+id,
		"name: 会签测试 "+id,
		"form: [{key: note, type: string}, {key: secret, type: string}]",
		"steps:",
		"  - {id: s, name: 审批, type: approval, assignees: "+users+", "+sign+", sla: 2h, on_timeout: {remind_every: 1h}, fields: {secret: hidden, note: editable}}",
		"  - {id: next, name: 办理, type: task, assignees: {user: u_feng}, return_to: [applicant, s]}",
	)
}
