package browser_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ccbox/ccbox/tests/audiotest"
	"github.com/ccbox/ccbox/tests/browser"
)

// actionTimeout bounds one browser action in these tests.
const actionTimeout = 20 * time.Second

// serve returns an HTTPS test server (self-signed, as the appliance is) that
// answers every path with page.
func serve(t *testing.T, page string) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestReadsPage(t *testing.T) {
	t.Setenv("ARTIFACTS_DIR", t.TempDir())
	srv := serve(t, `<!doctype html><title>ccbox</title>
<p id="msg">hello from <b>ccbox</b></p>
<script>console.log("page loaded", 42)</script>`)

	var mu sync.Mutex
	var console []string
	ctx := browser.New(t, browser.Options{OnConsole: func(m chromedp.ConsoleMessage) {
		mu.Lock()
		defer mu.Unlock()
		console = append(console, m.Text)
	}})
	actx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(actx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	text, err := chromedp.Run(actx, chromedp.Text(chromedp.ID("msg")))
	if err != nil {
		t.Fatalf("read #msg: %v", err)
	}
	if text != "hello from ccbox" {
		t.Errorf("#msg text = %q, want %q", text, "hello from ccbox")
	}

	// The console message arrives asynchronously: poll for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(console, "\n")
		mu.Unlock()
		if strings.Contains(got, "page loaded 42") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("console messages = %q, want one with %q", got, "page loaded 42")
		}
		// Wait for the next message or the deadline, whichever is first.
		select {
		case <-actx.Done():
			t.Fatal(actx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}

	path := browser.Screenshot(t, ctx, "page")
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", path)
	}
	if filepath.Dir(path) != os.Getenv("ARTIFACTS_DIR") {
		t.Errorf("screenshot at %s, not in ARTIFACTS_DIR", path)
	}
}

// micPage asks for the microphone and reports the frequency of the loudest
// bin after a second of sound, with the browser's audio processing off.
const micPage = `<!doctype html><title>mic</title><script>
window.peak = async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: {
    echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  const ac = new AudioContext();
  const analyser = ac.createAnalyser();
  analyser.fftSize = 8192;
  ac.createMediaStreamSource(stream).connect(analyser);
  await new Promise(r => setTimeout(r, 1000));
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return {freq: best * ac.sampleRate / analyser.fftSize, db: bins[best]};
};
</script>`

func TestFakeMicrophone(t *testing.T) {
	tests := []struct {
		name string
		rate int
		freq float64
	}{
		{"1 kHz at 8 kHz", 8000, 1000},
		{"440 Hz at 48 kHz", 48000, 440},
	}
	srv := serve(t, micPage)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ARTIFACTS_DIR", t.TempDir())
			wav := filepath.Join(t.TempDir(), "tone.wav")
			if err := audiotest.WriteToneWAV(wav, tt.rate, 10*time.Second, tt.freq); err != nil {
				t.Fatal(err)
			}
			ctx := browser.New(t, browser.Options{FakeAudioWAV: wav})
			actx, cancel := context.WithTimeout(ctx, actionTimeout)
			defer cancel()
			if err := chromedp.Do(actx, chromedp.Navigate(srv.URL)); err != nil {
				t.Fatalf("navigate: %v", err)
			}
			type peak struct {
				Freq float64 `json:"freq"`
				DB   float64 `json:"db"`
			}
			got, err := chromedp.Run(actx, chromedp.Evaluate[peak]("window.peak()", chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("measure the microphone: %v", err)
			}
			// One analyser bin is rate/8192: 5.9 Hz at 48 kHz.
			if math.Abs(got.Freq-tt.freq) > 15 {
				t.Errorf("microphone peak at %.1f Hz (%.1f dB), want %v Hz", got.Freq, got.DB, tt.freq)
			}
		})
	}
}
