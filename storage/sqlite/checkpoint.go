package sqlite

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints. In WAL mode every commit appends to the -wal file, and a
// checkpoint copies those pages back into the database file and syncs it.
// SQLite's own automatic checkpoint runs inside the commit that crosses
// 1,000 pages, on the one write connection: every write of the process
// waits while it copies and fsyncs. The writer therefore has automatic
// checkpoints off (dsn), and a goroutine of the store checkpoints PASSIVE
// from a read connection after commits, at most every checkpointEvery (and
// every checkpointIdle without a wake, for writes that do not wake it): a
// passive checkpoint never waits for the writer and the writer never waits
// for it.
//
// Under a steady stream of commits a passive checkpoint can always find
// newer frames behind it, and the -wal file only starts again from its
// beginning once all of it has been copied. So when the log has grown past
// walRestartPages the writer itself runs a RESTART checkpoint between two
// groups: it has little left to copy, and the file starts over. SQLite
// runs one checkpoint at a time and refuses a second at once, so the two
// take turns on a mutex: a restart that finds the goroutine's checkpoint
// running is tried again after the next group, not dropped.
const (
	checkpointEvery = 200 * time.Millisecond
	checkpointIdle  = 5 * time.Second
	walRestartPages = 16384 // 64 MiB of 4 KiB pages
)

type checkpointer struct {
	every        time.Duration // checkpointEvery; tests shorten it
	restartPages int           // walRestartPages; tests lower it
	wake         chan struct{} // a commit happened; buffered 1
	stop         chan struct{}
	stopped      sync.Once // Close may be called twice
	wg           sync.WaitGroup
	restart      atomic.Bool // the log is past walRestartPages: the writer restarts it
	running      sync.Mutex  // held while this store runs a checkpoint
	// checkpointed, when not nil (tests), is sent the log's size after
	// each passive checkpoint.
	checkpointed chan int
}

// startCheckpoints starts the checkpoint goroutine.
func (s *Store) startCheckpoints() {
	s.ckpt.every, s.ckpt.restartPages = checkpointEvery, walRestartPages
	s.ckpt.wake, s.ckpt.stop = make(chan struct{}, 1), make(chan struct{})
	s.ckpt.wg.Go(s.checkpoints)
}

// committed tells the checkpoint goroutine there are pages to copy.
func (s *Store) committed() {
	select {
	case s.ckpt.wake <- struct{}{}:
	default:
	}
}

// stopCheckpoints ends the goroutine; Close then lets SQLite checkpoint
// the rest as the last connection closes.
func (s *Store) stopCheckpoints() {
	if s.ckpt.stop == nil {
		return
	}
	s.ckpt.stopped.Do(func() { close(s.ckpt.stop) })
	s.ckpt.wg.Wait()
}

func (s *Store) checkpoints() {
	pause := time.NewTimer(checkpointIdle)
	defer pause.Stop()
	for {
		select {
		case <-s.ckpt.wake:
		case <-pause.C:
		case <-s.ckpt.stop:
			return
		}
		var busy, logPages, copied int
		// A failed checkpoint loses nothing (the pages stay in the log);
		// the next commit wakes another.
		s.ckpt.running.Lock()
		err := s.read.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied)
		s.ckpt.running.Unlock()
		if err == nil && logPages > s.ckpt.restartPages {
			s.ckpt.restart.Store(true)
		}
		if s.ckpt.checkpointed != nil {
			select {
			case s.ckpt.checkpointed <- logPages:
			case <-s.ckpt.stop:
				return
			}
		}
		pause.Reset(s.ckpt.every)
		select {
		case <-pause.C:
		case <-s.ckpt.stop:
			return
		}
		pause.Reset(checkpointIdle)
	}
}

// restartLog runs the RESTART checkpoint the checkpoint goroutine asked
// for; the writer calls it between groups, holding the write connection.
// RESTART waits (up to the busy timeout) for readers of the old log to end;
// one that still fails is asked for again by the next passive checkpoint.
func (s *Store) restartLog() {
	if !s.ckpt.restart.Load() || !s.ckpt.running.TryLock() {
		return
	}
	defer s.ckpt.running.Unlock()
	s.ckpt.restart.Store(false)
	_, _ = s.write.ExecContext(context.Background(), "PRAGMA wal_checkpoint(RESTART)")
}
