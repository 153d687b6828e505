package browser

import "testing"

func TestParseFlag(t *testing.T) {
	tests := []struct {
		in        string
		wantName  string
		wantValue any
	}{
		{"--lang=zh-CN", "lang", "zh-CN"},
		{"--mute-audio=false", "mute-audio", false},
		{"--enable-logging", "enable-logging", true},
		{"v=1", "v", "1"},
		{"--use-file-for-fake-audio-capture=/a b/x.wav%noloop", "use-file-for-fake-audio-capture", "/a b/x.wav%noloop"},
		{"--", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, value := parseFlag(tt.in)
			if name != tt.wantName || value != tt.wantValue {
				t.Errorf("parseFlag(%q) = %q, %v; want %q, %v", tt.in, name, value, tt.wantName, tt.wantValue)
			}
		})
	}
}
