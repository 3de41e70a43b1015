package orders

import (
	"encoding/json"
	"testing"
)

// FuzzText: a string scalar reads as text exactly as encoding/json reads
// it as a string — the plain case taken without the decoder, escapes,
// control characters and invalid UTF-8 through it — and a number keeps
// its digits.
func FuzzText(f *testing.F) {
	for _, s := range []string{`"云栖旗舰店"`, `"a\"b"`, `"\u00e9\n"`, "\"\xff\xfe\"", `" TEA-LJ-250 "`, `""`, `"\\"`,
		`6923456789012345678`, `-1.50`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want any
		if err := json.Unmarshal(b, &want); err != nil {
			return // not a JSON value: the decoder refuses it before any field
		}
		var got text
		err := json.Unmarshal(b, &got)
		switch v := want.(type) {
		case string:
			if err != nil || string(got) != v {
				t.Fatalf("%q: text %q (%v), string %q", b, got, err, v)
			}
		case float64:
			var n json.Number
			_ = json.Unmarshal(b, &n)
			if err != nil || string(got) != string(n) {
				t.Fatalf("%q: text %q (%v), number %q", b, got, err, n)
			}
		case nil:
			if err != nil || got != "" {
				t.Fatalf("%q: null read as %q (%v)", b, got, err)
			}
		default:
			if err == nil {
				t.Fatalf("%q: a %T read as text %q", b, v, got)
			}
		}
	})
}
