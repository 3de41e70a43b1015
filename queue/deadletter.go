package queue

import (
	"context"
	"fmt"
)

// FindDeadLetter returns the newest dead letter of topic whose message id
// is id; ErrNotFound if there is none. Dead letters are few and capped per
// topic, so it looks through the kept ones rather than widen Queue.
func FindDeadLetter(ctx context.Context, q Queue, topic, id string) (DeadLetter, error) {
	dls, err := q.DeadLetters(ctx, topic, 0)
	if err != nil {
		return DeadLetter{}, err
	}
	for _, dl := range dls {
		if dl.Message.ID == id {
			return dl, nil
		}
	}
	return DeadLetter{}, fmt.Errorf("queue: dead letter %s/%s: %w", topic, id, ErrNotFound)
}
