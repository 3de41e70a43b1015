package postgres

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitArray(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`[]`, ` [ ] `, `[null]`, `[1,"two",3.5e2,true,false,null]`,
		`[{"kind":"decision","title":"订单 ] , [ \"}","nested":{"a":[1,[2,{"b":"\\"}]]}},null,{"c":"\\\\"}]`,
		"[ {\"a\" : [ ] } ,\n\t\"x\" ,  [ ]  ]\n",
	} {
		var want []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(in), &want), in)
		got, err := splitArray([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, asStrings(want), asStrings(got), in)
	}
	for _, in := range []string{``, `{}`, `null`, `[1,`, `[1] x`, `[,1]`, `[1,,2]`, `[1,]`, `["]`} {
		_, err := splitArray([]byte(in))
		require.Error(t, err, in)
	}
}

// FuzzSplitArray: for every JSON array, splitArray finds the elements
// encoding/json does; for any other input it returns, without panicking.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, `[null,{"a":"]"}]`, `[{"k":"v\"]"},[1,[2]],"x"]`, ` [ 1 , 2 ] `, `[1,`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := splitArray(in)
		var want []json.RawMessage
		if json.Unmarshal(in, &want) != nil || want == nil {
			return // not an array (null decodes too): any answer but a panic will do
		}
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if a, b := asStrings(want), asStrings(got); len(a) != len(b) {
			t.Fatalf("%q: %q, want %q", in, b, a)
		} else {
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%q: %q, want %q", in, b, a)
				}
			}
		}
	})
}

func asStrings(list []json.RawMessage) []string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = string(m)
	}
	return out
}
