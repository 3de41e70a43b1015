package redis

// DeadLetterElem is deadLetterElem for the external tests, which write
// dead letters straight into Redis.
var DeadLetterElem = deadLetterElem
