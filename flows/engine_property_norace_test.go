//go:build !race

package flows_test

// raceEnabled shortens the property test's sequences under -race, which
// slows the pure-Go SQLite down about tenfold.
const raceEnabled = false
