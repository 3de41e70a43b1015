package bottest

import (
	"errors"
	"testing"
)

func TestAssertNoLeakCatchesEscapedSecrets(t *testing.T) {
	t.Parallel()
	log := NewLog()
	log.Info("call failed", "url", "https://x.example/send?access_token=a%2Fb%2Bc123")
	ft := &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }()
		AssertNoLeak(ft, []string{"a/b+c123"}, errors.New("fine"), log.String())
	}()
	if !ft.failed {
		t.Fatal("a query-escaped token in the log was not caught")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()                           {}
func (f *fakeT) Errorf(format string, args ...any) { f.failed = true }
func (f *fakeT) FailNow()                          { f.failed = true; panic("failnow") }
