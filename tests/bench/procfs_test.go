package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/PID/stat. The kernel fixes it at 100 for user space on every
// architecture the appliance ships for; reading it with sysconf would need
// cgo.
const clockTicksPerSecond = 100

// errProcFormat is returned when a /proc file does not have the expected
// layout.
var errProcFormat = errors.New("unexpected /proc format")

// cpuTime returns the CPU time (user + system) that process pid has used,
// from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := parseStatTicks(data)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, nil
}

// parseStatTicks returns utime + stime (fields 14 and 15, in clock ticks) of
// a /proc/PID/stat line. The command name (field 2) is in parentheses and
// may itself hold spaces and parentheses, so the fields are counted from the
// last ')'.
func parseStatTicks(data []byte) (uint64, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: no command name", errProcFormat)
	}
	// fields[0] is field 3 (state), so field n is fields[n-3].
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 15-3+1 {
		return 0, fmt.Errorf("%w: %d fields after the command name", errProcFormat, len(fields))
	}
	var sum uint64
	for _, f := range fields[14-3 : 15-3+1] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errProcFormat, err)
		}
		sum += n
	}
	return sum, nil
}

// statusBytes returns a memory figure of process pid, such as "VmRSS"
// (resident now) or "VmHWM" (peak resident), from /proc/PID/status.
func statusBytes(pid int, key string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	n, err := parseStatusBytes(data, key)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return n, nil
}

// parseStatusBytes returns the value of the line "key:   1234 kB" of a
// /proc/PID/status file, in bytes (the kernel's kB are 1024 bytes).
func parseStatusBytes(data []byte, key string) (int64, error) {
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name != key {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("%w: %s: %q", errProcFormat, key, strings.TrimSpace(value))
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %w", errProcFormat, key, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no %s line", errProcFormat, key)
}

// mb returns n bytes in MB of 2^20 bytes, the unit of every memory metric.
func mb(n int64) float64 { return float64(n) / (1 << 20) }

func TestParseStatTicks(t *testing.T) {
	// Fields 1-17 of a real line; utime 1234 and stime 56 are fields 14, 15.
	const tail = " S 1 1234 1234 0 -1 4194560 1500 0 0 0 1234 56 0 0 20 0 12 0 500 0 0"
	tests := []struct {
		name    string
		line    string
		want    uint64
		wantErr bool
	}{
		{"plain name", "4242 (appliance)" + tail, 1290, false},
		{"name with spaces and parentheses", "4242 (a b) (c))" + tail, 1290, false},
		{"no command name", "4242 appliance" + tail, 0, true},
		{"too few fields", "4242 (appliance) S 1 1234", 0, true},
		{"not a number", "4242 (appliance) S 1 1234 1234 0 -1 4194560 1500 0 0 0 x 56 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatTicks([]byte(tt.line))
			if tt.wantErr {
				if !errors.Is(err, errProcFormat) {
					t.Fatalf("parseStatTicks(%q) = %d, %v; want errProcFormat", tt.line, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStatTicks(%q) = %d, %v; want %d", tt.line, got, err, tt.want)
			}
		})
	}
}

func TestParseStatusBytes(t *testing.T) {
	const status = "Name:\tappliance\nVmPeak:\t 1262340 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   14324 kB\nThreads:\t12\n"
	tests := []struct {
		name    string
		data    string
		key     string
		want    int64
		wantErr bool
	}{
		{"VmRSS", status, "VmRSS", 14324 << 10, false},
		{"VmHWM", status, "VmHWM", 40960 << 10, false},
		{"missing key", status, "VmSwap", 0, true},
		{"a prefix of a key is not the key", status, "VmR", 0, true},
		{"not in kB", status, "Threads", 0, true},
		{"bad number", "VmRSS:\t12x kB\n", "VmRSS", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatusBytes([]byte(tt.data), tt.key)
			if tt.wantErr {
				if !errors.Is(err, errProcFormat) {
					t.Fatalf("parseStatusBytes(%s) = %d, %v; want errProcFormat", tt.key, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStatusBytes(%s) = %d, %v; want %d", tt.key, got, err, tt.want)
			}
		})
	}
}

// TestProcOfSelf reads this test process's own figures, so a change of the
// kernel's layout shows up in CI and not only in a benchmark run.
func TestProcOfSelf(t *testing.T) {
	pid := os.Getpid()
	if _, err := cpuTime(pid); err != nil {
		t.Errorf("cpuTime(self): %v", err)
	}
	for _, key := range []string{"VmRSS", "VmHWM"} {
		n, err := statusBytes(pid, key)
		if err != nil || n <= 0 {
			t.Errorf("statusBytes(self, %s) = %d, %v; want a positive size", key, n, err)
		}
	}
}
