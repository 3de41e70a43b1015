package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// parseFixture parses testdata/flows/<dir>/<name>.yaml under its base name,
// so messages read "name.yaml:line: reason".
func parseFixture(t *testing.T, dir, name string) (*Flow, error) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "flows", dir, name+".yaml"))
	require.NoError(t, err)
	return ParseFlow(name+".yaml", src)
}

// mustFixture parses a good fixture.
func mustFixture(t *testing.T, name string) *Flow {
	t.Helper()
	f, err := parseFixture(t, "good", name)
	require.NoError(t, err)
	return f
}

func TestParseFlowModel(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")

	require.Equal(t, "full", f.ID)
	require.Equal(t, "全功能", f.Name)
	require.Equal(t, "order.created", f.Trigger.Event)
	require.Equal(t, Settings{
		AutoSkip:     AutoSkip{Applicant: true, Repeated: true},
		Fallback:     Assignees{{Kind: RuleRole, Value: "admin", Levels: 1, Line: 9}, {Kind: RuleUser, Value: "u_shen", Levels: 1, Line: 9}},
		UrgeInterval: 45 * time.Minute,
	}, f.Settings)

	require.Len(t, f.Form, 11)
	amount := f.Form[3]
	require.Equal(t, FieldMoney, amount.Type)
	require.True(t, amount.Required)
	require.Equal(t, "0", amount.Min.String())
	require.Equal(t, "100000.5", amount.Max.String())
	require.Equal(t, []string{"low", "high"}, f.Form[6].Options)
	items := f.Form[10]
	require.Equal(t, 3, items.MaxRows)
	require.Equal(t, []FieldType{FieldString, FieldMoney, FieldDate},
		[]FieldType{items.Columns[0].Type, items.Columns[1].Type, items.Columns[2].Type})

	review := f.Step("review")
	require.Equal(t, StepApproval, review.Type)
	require.True(t, review.Sequential)
	require.Equal(t, Sign{Mode: SignAll}, review.Sign, "sequential implies 会签")
	require.Equal(t, 36*time.Hour, review.SLA)
	require.Equal(t, &Timeout{
		RemindEvery:     2 * time.Hour,
		EscalateAfter:   4 * time.Hour,
		EscalateTo:      Assignees{{Kind: RuleDepartmentHead, Value: OfApplicant, Levels: 1, Line: 37}},
		AutoActionAfter: 24 * time.Hour,
		AutoAction:      AutoApprove,
	}, review.OnTimeout)
	require.Equal(t, Assignees{{Kind: RuleManagerOf, Value: OfApplicant, Levels: 2, Line: 34}}, review.Assignees)
	require.Equal(t, Assignees{{Kind: RuleFormField, Value: "owner", Levels: 1, Line: 38}}, review.CC)
	require.Equal(t, map[string]Access{"note": AccessEditable, "cost": AccessHidden}, review.Fields)
	require.Equal(t, []string{ReturnToApplicant}, review.ReturnTo)

	require.Equal(t, Sign{Mode: SignPercent, Percent: 60}, f.Step("board").Sign)
	require.Equal(t, "percent:60", f.Step("board").Sign.String())
	require.Equal(t, Sign{Mode: SignAll}, f.Step("finance").Sign)

	route := f.Step("route")
	require.Len(t, route.Cases, 2)
	require.Equal(t, "board", route.Cases[0].Goto)
	require.Equal(t, "form.amount > 5000", route.Cases[1].When.String())
	require.Equal(t, "prep", route.Default)

	prep := f.Step("prep")
	require.Len(t, prep.Parallel, 2)
	require.Equal(t, "仓库", prep.Parallel[0].Name)
	require.Equal(t, "#2", prep.Parallel[1].Name, "an unnamed branch is named by its position")
	require.Len(t, f.Step("pick").ResultForm, 2)

	page := f.Step("page")
	require.Equal(t, &Alert{
		DedupeKey:      []string{"title"},
		GroupBy:        []string{"level"},
		GroupWait:      DefaultGroupWait,
		RepeatInterval: DefaultRepeatInterval,
		Escalation:     []Escalation{{After: 10 * time.Minute, Assignees: Assignees{{Kind: RuleRole, Value: "gm", Levels: 1, Line: 94}}, Line: 94}},
		AutoResolveOn:  "order.cancelled",
	}, page.Alert)
}

func TestParseFlowDefaults(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "design_sketch")
	require.Equal(t, Settings{
		Fallback:     Assignees{{Kind: RuleRole, Value: DefaultAdminRole, Levels: 1}},
		UrgeInterval: DefaultUrgeInterval,
	}, f.Settings)
	s := f.Step("finance_confirm")
	require.Equal(t, "finance_confirm", s.Name, "the id names a step without a name")
	require.Equal(t, Sign{Mode: SignAny}, f.Step("director").Sign, "或签 is the default sign")
	require.Equal(t, &Timeout{
		RemindEvery: 30 * time.Minute,
		EscalateTo:  Assignees{{Kind: RuleRole, Value: "finance_lead", Levels: 1, Line: 15}},
	}, s.OnTimeout)
	require.Equal(t, "amount", f.Form[1].Key)
	require.Equal(t, "金额", f.Form[1].Label)
	require.Nil(t, f.Step("pack").ReturnTo, "no return_to means the default targets")
}

func TestParseFlowHashAndDefinition(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("testdata", "flows", "good", "design_sketch.yaml"))
	require.NoError(t, err)
	f, err := ParseFlow("a.yaml", src)
	require.NoError(t, err)
	// sha256 of the file, computed independently: `sha256sum design_sketch.yaml`.
	require.Equal(t, sha256Hex(src), f.Hash)
	require.Len(t, f.Hash, 64)

	d := f.Definition()
	require.Equal(t, Definition{FlowID: "order_fulfilment", Name: "订单履约", Hash: f.Hash, Source: src}, d)

	d.Version = 7
	again, err := ParseDefinition(d)
	require.NoError(t, err)
	require.Equal(t, "order_fulfilment@v7", again.File)
	require.Equal(t, f.Hash, again.Hash)

	changed, err := ParseFlow("a.yaml", append(slices.Clone(src), []byte("# a comment\n")...))
	require.NoError(t, err)
	require.NotEqual(t, f.Hash, changed.Hash, "any change of the source is a new version")

	src[0] = 'X' // the flow keeps its own copy of the source
	require.NotEqual(t, src, f.Source)
}

func TestParseDefinitionReportsStoredName(t *testing.T) {
	t.Parallel()
	_, err := ParseDefinition(Definition{FlowID: "x", Version: 2, Source: []byte("id: x\n")})
	require.EqualError(t, err, "x@v2:1: flow: name is required\nx@v2:1: flow: steps is required")
}

func TestValidationErrorUnwrap(t *testing.T) {
	t.Parallel()
	_, err := parseFixture(t, "bad", "sign")
	var p Problem
	require.ErrorAs(t, err, &p, "each problem is reachable with errors.As")
	require.Equal(t, Problem{File: "sign.yaml", Line: 4, Msg: `step a: sign: unknown sign mode "majority" (want single, any, all or percent:N)`}, p)
	require.True(t, errors.Is(err, p))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
