package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/tests/harness"
)

// ExecPath is the browser: Debian's chromium package (tests/run installs it).
// The tests never fall back to another browser or skip without one.
const ExecPath = "/usr/bin/chromium"

// Time bounds.
const (
	// DefaultTimeout bounds the life of one browser: when it passes, the
	// browser is stopped and every further action fails.
	DefaultTimeout = 3 * time.Minute
	// startTimeout bounds the start of the browser, up to a blank tab.
	startTimeout = 30 * time.Second
	// screenshotTimeout bounds one screenshot.
	screenshotTimeout = 10 * time.Second
)

// outputTailLines is how much of Chromium's own output a failed test shows.
const outputTailLines = 50

// Options configure New. The zero value is a browser with a fake
// microphone that beeps (Chromium's built-in fake device).
type Options struct {
	// FakeAudioWAV, when set, is the WAV file the fake microphone plays
	// once (then it repeats its last 10 ms): 16-bit mono PCM at 8 to
	// 48 kHz (audiotest.WriteToneWAV writes one). Make it longer than the
	// call.
	FakeAudioWAV string
	// ExtraFlags are more Chromium switches, as "--name=value" or "--name";
	// "--name=false" removes a switch that New sets (for example
	// "--mute-audio=false").
	ExtraFlags []string
	// Timeout bounds the life of the browser. Zero: DefaultTimeout.
	Timeout time.Duration
	// OnConsole, when set, receives every console message of the first tab
	// (besides the test log), for a test that asserts on them.
	OnConsole func(chromedp.ConsoleMessage)
}

// New starts headless Chromium for the test and returns the chromedp context
// of its first tab. Run actions on it with chromedp.Do and chromedp.Run;
// bound each one with a context.WithTimeout derived from it. The browser has
// a new profile in a temp dir, accepts the appliance's self-signed
// certificate, grants microphone access without asking and allows WebRTC
// between loopback addresses. When the test ends the browser is stopped; if
// the test failed, a screenshot is saved first and Chromium's own output is
// logged.
//
// New fails the test (it never skips) when Chromium is not at ExecPath.
func New(t testing.TB, opts Options) context.Context {
	t.Helper()
	if fi, err := os.Stat(ExecPath); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("headless Chromium must be at %s (Debian package chromium; tests/run installs it): %v", ExecPath, errOrNotExecutable(err))
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	profile := t.TempDir()
	outPath := filepath.Join(t.TempDir(), "chromium.log")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatalf("browser output file: %v", err)
	}
	allocOpts, err := allocatorOptions(opts, profile)
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	allocOpts = append(allocOpts, chromedp.CombinedOutput(out))

	life, cancelLife := context.WithTimeout(context.Background(), opts.Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, allocOpts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("chromedp: "+format, args...)
	}))
	var console sync.WaitGroup // the goroutine that logs console messages
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
		cancelLife()
		console.Wait() // no t.Logf after the test
		out.Close()
		if t.Failed() {
			if b, err := os.ReadFile(outPath); err == nil {
				if lines := lastLines(withoutNoise(string(b)), outputTailLines); lines != "" {
					t.Logf("chromium output, last %d lines:\n%s", outputTailLines, lines)
				}
			}
		}
	})

	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }() // the first action starts the browser
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	case <-timer.C:
		cancelCtx()
		t.Fatalf("chromium did not start within %v", startTimeout)
	}

	messages := chromedp.Console(ctx) // subscribed from here on
	console.Add(1)
	go func() {
		defer console.Done()
		for m, err := range messages {
			if err != nil {
				return // the context ended
			}
			t.Logf("browser console: %s", m)
			if opts.OnConsole != nil {
				opts.OnConsole(m)
			}
		}
	}()

	// Registered after the browser's cleanup, so it runs first, while the
	// browser still shows the page that failed.
	t.Cleanup(func() {
		if t.Failed() {
			Screenshot(t, ctx, "failure")
		}
	})
	return ctx
}

func errOrNotExecutable(err error) error {
	if err != nil {
		return err
	}
	return errors.New("not an executable file")
}

// allocatorOptions builds the Chromium command line: chromedp's defaults
// (headless, no first run, no background networking, no sync, …) and what
// the tests need.
func allocatorOptions(opts Options, profile string) ([]chromedp.ExecAllocatorOption, error) {
	o := slices.Clone(chromedp.DefaultExecAllocatorOptions[:])
	o = append(o,
		chromedp.ExecPath(ExecPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.IgnoreCertErrors, // the appliance's certificate is self-signed
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		// A page may start WebAudio and play remote audio without a click.
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 900),
	)
	if opts.FakeAudioWAV != "" {
		wav, err := filepath.Abs(opts.FakeAudioWAV)
		if err != nil {
			return nil, fmt.Errorf("fake audio: %w", err)
		}
		if _, err := os.Stat(wav); err != nil {
			return nil, fmt.Errorf("fake audio: %w", err)
		}
		// %noloop: play the file once; a looping tone would hide a
		// call that dropped its media and came back.
		o = append(o, chromedp.Flag("use-file-for-fake-audio-capture", wav+"%noloop"))
	}
	for _, f := range opts.ExtraFlags {
		name, value := parseFlag(f)
		if name == "" {
			return nil, fmt.Errorf("browser flag %q has no name", f)
		}
		o = append(o, chromedp.Flag(name, value))
	}
	return o, nil
}

// parseFlag splits "--name=value" into name and value: true for a bare
// switch, false for "=false" (chromedp leaves a false switch out).
func parseFlag(f string) (name string, value any) {
	f = strings.TrimLeft(strings.TrimSpace(f), "-")
	name, v, ok := strings.Cut(f, "=")
	switch {
	case !ok, v == "true":
		return name, true
	case v == "false":
		return name, false
	}
	return name, v
}

// Screenshot saves a PNG of the whole page of ctx's tab as an artifact of
// the test named after name, and returns its path ("" when it failed, which
// is a test error).
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	if !strings.HasSuffix(name, ".png") {
		name += ".png"
	}
	sctx, cancel := context.WithTimeout(ctx, screenshotTimeout)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := harness.ArtifactPath(t, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	t.Logf("screenshot saved to %s", path)
	return path
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// withoutNoise drops the lines of Chromium's output that every run prints in
// a container without a desktop session (no D-Bus), so the lines that can
// explain a failure show.
func withoutNoise(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, ":ERROR:dbus/") && strings.TrimSpace(line) != "" {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
