package flows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  string
	}{
		{name: "minutes", in: "30m", want: 30 * time.Minute},
		{name: "go duration", in: "1h30m", want: 90 * time.Minute},
		{name: "days", in: "3d", want: 72 * time.Hour},
		{name: "days and hours", in: "1d12h", want: 36 * time.Hour},
		{name: "negative", in: "-2h", want: -2 * time.Hour},
		{name: "days then negative", in: "1d-2h", err: `invalid duration "1d-2h" (use e.g. 30m, 2h, 3d, 1d12h)`},
		{name: "words", in: "two days", err: `invalid duration "two days" (use e.g. 30m, 2h, 3d, 1d12h)`},
		{name: "fractional days", in: "1.5d", err: `invalid duration "1.5d" (use e.g. 30m, 2h, 3d, 1d12h)`},
		{name: "too many days", in: "99999d", err: `invalid duration "99999d": too many days`},
		{name: "empty", in: "", err: `invalid duration "" (use e.g. 30m, 2h, 3d, 1d12h)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{name: "hours", in: time.Hour, want: "1h"},
		{name: "hours and minutes", in: 90 * time.Minute, want: "1h30m"},
		{name: "ten minutes", in: 10 * time.Minute, want: "10m"},
		{name: "seconds", in: 45 * time.Second, want: "45s"},
		{name: "days", in: 48 * time.Hour, want: "2d"},
		{name: "days and hours", in: 36 * time.Hour, want: "1d12h"},
		{name: "milliseconds", in: 500 * time.Millisecond, want: "500ms"},
		{name: "zero", in: 0, want: "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, FormatDuration(tt.in))
			if tt.in > 0 {
				back, err := ParseDuration(tt.want)
				require.NoError(t, err)
				require.Equal(t, tt.in, back, "formatted durations parse back")
			}
		})
	}
}
