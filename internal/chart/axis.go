package chart

import "math"

// axisTicks is the y axis's bottom and top and its number of labels.
type axisTicks struct {
	lo, hi float64
	labels int
}

// niceAxis picks a y axis of about five round steps (1, 2, 2.5 or 5 times
// a power of ten) around the values: from zero for amounts none of which is
// negative, so that heights compare honestly, and around the values for
// rates and ratios, so that a move from 4.1% to 4.5% shows.
func niceAxis(s Spec) axisTicks {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, se := range s.Series {
		for _, v := range se.Values {
			if !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) { // no data at all
		lo, hi = 0, 1
	}
	if lo >= 0 && s.Unit != UnitPercent && s.Unit != UnitRatio {
		lo = 0
	}
	if hi == lo {
		d := math.Max(math.Abs(hi)/10, 1)
		hi += d
		if lo != 0 {
			lo -= d
		}
	}
	step := niceStep((hi - lo) / 5)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if hi == lo {
		hi += step
	}
	return axisTicks{lo: lo, hi: hi, labels: int(math.Round((hi-lo)/step)) + 1}
}

// niceStep rounds x up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}
