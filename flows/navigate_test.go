package flows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSuccessorAndEnclosing(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	tests := []struct {
		name, step, want string
		parallel         string
		branch           int
	}{
		{name: "next in list", step: "review", want: "route", branch: -1},
		{name: "explicit next", step: "board", want: "prep", branch: -1},
		{name: "parallel continues after its join", step: "prep", want: "page", branch: -1},
		{name: "last step ends the flow", step: "tell", want: End, branch: -1},
		{name: "inside a branch", step: "pick", want: "recheck", parallel: "prep", branch: 0},
		{name: "last of a branch ends the branch", step: "recheck", want: End, parallel: "prep", branch: 0},
		{name: "second branch", step: "buy", want: End, parallel: "prep", branch: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := f.Step(tt.step)
			require.NotNil(t, s)
			require.Equal(t, tt.want, f.Successor(s))
			p, b := f.Enclosing(s)
			require.Equal(t, tt.branch, b)
			if tt.parallel == "" {
				require.Nil(t, p)
			} else {
				require.Same(t, f.Step(tt.parallel), p)
			}
		})
	}
	require.Nil(t, f.Step("nope"))
}

func TestReturnTargets(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "full")
	tests := []struct {
		name, step, previous string
		want                 []string
	}{
		{name: "explicit applicant only", step: "review", want: []string{ReturnToApplicant}},
		{name: "default: applicant and every earlier person step", step: "board", want: []string{ReturnToApplicant, "review"}},
		{name: "previous resolves to the step before", step: "finance", previous: "board", want: []string{ReturnToApplicant, "review", "board"}},
		{name: "previous unknown yet", step: "finance", want: []string{ReturnToApplicant, "review"}},
		{name: "previous that is not earlier is refused", step: "finance", previous: "page", want: []string{ReturnToApplicant, "review"}},
		{name: "branch step sees steps before its parallel", step: "pick", want: []string{ReturnToApplicant, "review", "board", "finance"}},
		{name: "listed targets in file order", step: "buy", want: []string{ReturnToApplicant, "review"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, f.ReturnTargets(f.Step(tt.step), tt.previous))
		})
	}
}
