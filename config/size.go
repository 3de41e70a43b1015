package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a size in bytes, written in the file as an integer (1048576)
// or with a binary unit ("1MiB"). Decimal units such as "1MB" are refused
// rather than guessed at, because readers disagree on what they mean.
type ByteSize int64

// Binary units a ByteSize accepts, largest first for String.
var sizeUnits = []struct {
	name string
	mult int64
}{
	{"GiB", 1 << 30},
	{"MiB", 1 << 20},
	{"KiB", 1 << 10},
	{"B", 1},
}

// ParseByteSize parses "1048576", "512KiB", "1MiB" or "2GiB"; spaces
// between number and unit are allowed.
func ParseByteSize(s string) (ByteSize, error) {
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.TrimSpace(s[len(num):])
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf("expected a size in bytes or such as \"1MiB\", got %q", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q is out of range", s)
	}
	if unit == "" {
		return ByteSize(n), nil
	}
	for _, u := range sizeUnits {
		if u.name == unit {
			if n > math.MaxInt64/u.mult {
				return 0, fmt.Errorf("size %q is out of range", s)
			}
			return ByteSize(n * u.mult), nil
		}
	}
	return 0, fmt.Errorf("size %q has unknown unit %q: use B, KiB, MiB or GiB", s, unit)
}

// String writes the size with the largest unit that divides it exactly,
// e.g. "1MiB", so it reads back to the same value.
func (b ByteSize) String() string {
	for _, u := range sizeUnits {
		if b != 0 && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalText writes the size as String does.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }
