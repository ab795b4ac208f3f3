// Package procfs reads process facts from Linux's /proc. It is for the
// tests and the load generator; it does not work on other systems and does
// not lock against processes coming and going while it reads.
package procfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ChildPIDs returns the live (not zombie) child processes of parent whose
// executable's base name starts with exePrefix, read from /proc. Processes
// that vanish or cannot be read while it scans are skipped.
func ChildPIDs(parent int, exePrefix string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	want := strconv.Itoa(parent)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 || fields[0] == "Z" || fields[1] != want {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasPrefix(filepath.Base(exe), exePrefix) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
