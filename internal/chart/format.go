package chart

import (
	"math"
	"strconv"
	"strings"

	"cardflow/flows"
)

// axisFormatter returns how the y axis writes a value of unit u: short,
// because a phone shows the chart at about 350 points wide. Large amounts
// are written in the scale of the axis's top so that every tick reads
// alike (¥0, ¥0.5万, ¥1万, not ¥5,000 beside ¥1万).
func axisFormatter(u Unit, locale string, top float64) func(float64) string {
	en := locale == "en"
	return func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ""
		}
		if trim(math.Abs(v), 2) == "0" {
			v = 0
		}
		sign := ""
		if v < 0 {
			sign = "-"
		}
		a := math.Abs(v)
		switch u {
		case UnitMoney:
			return sign + "¥" + large(a, top, en)
		case UnitPercent:
			return sign + trim(a, 2) + "%"
		case UnitCount:
			return sign + large(a, top, en)
		case UnitDays:
			if en {
				return sign + trim(a, 1) + "d"
			}
			return sign + trim(a, 1) + "天"
		case UnitHours:
			if en {
				return sign + trim(a, 1) + "h"
			}
			return sign + trim(a, 1) + "小时"
		default:
			return sign + trim(a, 2)
		}
	}
}

// large writes a non-negative amount as 6,800 when top is below ten
// thousand and as 1.2万 (1.2亿) or 12K (1.2M, 1.2B) in top's scale above.
func large(a, top float64, en bool) string {
	if a == 0 {
		return "0"
	}
	type scale struct {
		min    float64
		suffix string
	}
	scales := []scale{{1e8, "亿"}, {1e4, "万"}}
	if en {
		scales = []scale{{1e9, "B"}, {1e6, "M"}, {1e4, "K"}}
	}
	for _, s := range scales {
		if math.Abs(top) >= s.min {
			div := s.min
			if en && s.suffix == "K" {
				div = 1e3
			}
			return trim(a/div, 2) + s.suffix
		}
	}
	return flows.GroupThousands(trim(a, 2))
}

// trim writes a with at most prec decimals and no trailing zeros.
func trim(a float64, prec int) string {
	s := strconv.FormatFloat(a, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
