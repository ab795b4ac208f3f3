package server

// OnWatchPushForTest makes the directory watch call fn after it pushed a
// change another process made.
func (s *Server) OnWatchPushForTest(fn func(version int64)) { s.watchPushed.Store(&fn) }
