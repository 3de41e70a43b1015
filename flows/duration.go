package flows

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// days matches a leading whole number of days, the one unit operators use
// for SLAs that Go's time.ParseDuration lacks.
var days = regexp.MustCompile(`^(\d+)d`)

// ParseDuration reads a Go duration ("90m", "1h30m") that may start with a
// whole number of days ("3d", "1d12h"). A day is 24 hours: SLAs here are
// wall-clock, not business days.
func ParseDuration(s string) (time.Duration, error) {
	var d time.Duration
	rest := s
	if m := days.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 36500 {
			return 0, fmt.Errorf("invalid duration %q: too many days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		rest = s[len(m[0]):]
		if rest == "" {
			return d, nil
		}
	}
	more, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30m, 2h, 3d, 1d12h)", s)
	}
	if d > 0 && more < 0 {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30m, 2h, 3d, 1d12h)", s)
	}
	return d + more, nil
}

// FormatDuration writes a duration the way flow files do: "2d", "1d12h",
// "1h30m", "45s".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return d.String()
	}
	var s string
	if days := d / (24 * time.Hour); days > 0 {
		s = strconv.Itoa(int(days)) + "d"
		d -= days * 24 * time.Hour
		if d == 0 {
			return s
		}
	}
	rest := d.String()
	for _, zero := range []string{"0s", "0m"} {
		if len(rest) > len(zero) && rest[len(rest)-len(zero):] == zero && rest[len(rest)-len(zero)-1] >= 'a' {
			rest = rest[:len(rest)-len(zero)]
		}
	}
	return s + rest
}
