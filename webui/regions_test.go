package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRegions(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin", testPassword)
	sub := ts.bus.Subscribe(16)
	defer sub.Close()

	info := func() regionsView {
		t.Helper()
		var v regionsView
		mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/regions", nil, http.StatusOK), &v)
		return v
	}
	lookup := func(number string) regionLookupView {
		t.Helper()
		var v regionLookupView
		mustJSON(t, expectStatus(t, ts, admin, http.MethodGet, "/api/v1/regions/lookup?number="+url.QueryEscape(number), nil, http.StatusOK), &v)
		return v
	}
	if v := info(); v.Count != 0 || !v.Updated.IsZero() {
		t.Errorf("before import: %+v", v)
	}
	if v := lookup("13800138000"); v.Found || v.Key != "8613800138000" || v.Kind != "mobile" {
		t.Errorf("lookup before import: %+v", v)
	}

	// A file with bad lines is refused whole, every bad line named.
	bad := "prefix,province,city\n1380013,北京,北京\n13800x4,上海,上海\n# comment\n\n010,北京\n1380013,天津,天津\n"
	resp, body := ts.doRaw(t, admin, http.MethodPost, "/api/v1/regions", "text/csv", []byte(bad))
	var eb apiErrorBody
	mustJSON(t, body, &eb)
	if resp.StatusCode != http.StatusBadRequest || eb.Error.Code != "invalid" || len(eb.Error.Lines) != 3 ||
		eb.Error.Lines[0].Line != 3 || eb.Error.Lines[1].Line != 6 || eb.Error.Lines[2].Line != 7 || eb.Error.Lines[0].Message == "" {
		t.Fatalf("bad file: %d %s", resp.StatusCode, body)
	}
	if v := info(); v.Count != 0 {
		t.Fatalf("a bad file was stored: %+v", v)
	}
	resp, body = ts.doRaw(t, admin, http.MethodPost, "/api/v1/regions", "application/json", []byte(`{"rows":[]}`))
	if code, _ := errorCode(body); resp.StatusCode != http.StatusUnsupportedMediaType || code != "unsupported_media_type" {
		t.Errorf("JSON body: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.doRaw(t, admin, http.MethodPost, "/api/v1/regions", "text/csv", []byte("prefix,province,city\n# nothing\n"))
	if code, _ := errorCode(body); resp.StatusCode != http.StatusBadRequest || code != "invalid" {
		t.Errorf("empty file: %d %s", resp.StatusCode, body)
	}

	good := "\xef\xbb\xbfprefix,province,city\n1380013,北京,北京\n0755,广东,深圳\n021,上海,上海\n020,广东,\n"
	resp, body = ts.doRaw(t, admin, http.MethodPost, "/api/v1/regions", "text/csv; charset=utf-8", []byte(good))
	var v regionsView
	mustJSON(t, body, &v)
	if resp.StatusCode != http.StatusOK || v.Count != 4 || v.Updated.IsZero() {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	if got := info(); got.Count != 4 || !got.Updated.Equal(v.Updated) {
		t.Errorf("after import: %+v", got)
	}
	for _, tc := range []struct {
		number         string
		found          bool
		province, city string
	}{
		{"13800138000", true, "北京", "北京"},
		{"+86 138 0013 8999", true, "北京", "北京"},
		{"0755-12345678", true, "广东", "深圳"},
		{"+86 21 5000 0000", true, "上海", "上海"},
		{"02087654321", true, "广东", ""},
		{"13900139000", false, "", ""},
	} {
		if got := lookup(tc.number); got.Found != tc.found || got.Province != tc.province || got.City != tc.city {
			t.Errorf("lookup %s = %+v", tc.number, got)
		}
	}
	resp, body = ts.do(t, admin, http.MethodGet, "/api/v1/regions/lookup?number=abc", nil)
	if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != "number" {
		t.Errorf("lookup of letters: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, admin, http.MethodGet, "/api/v1/regions/lookup", nil)
	if _, field := errorCode(body); resp.StatusCode != http.StatusBadRequest || field != "number" {
		t.Errorf("lookup without number: %d %s", resp.StatusCode, body)
	}

	// An import replaces the whole table, and lookups see the new one.
	resp, body = ts.doRaw(t, admin, http.MethodPost, "/api/v1/regions", "text/csv", []byte("1390013,江苏,南京\n"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second import: %d %s", resp.StatusCode, body)
	}
	if got := info(); got.Count != 1 {
		t.Errorf("after second import: %+v", got)
	}
	if got := lookup("13800138000"); got.Found {
		t.Errorf("old row survived the import: %+v", got)
	}
	if got := lookup("13900139000"); !got.Found || got.City != "南京" {
		t.Errorf("new row: %+v", got)
	}

	// Supervisors neither import nor look up.
	sup := ts.login(t, "supervisor", testPassword)
	if resp, _ := ts.doRaw(t, sup, http.MethodPost, "/api/v1/regions", "text/csv", []byte(good)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("supervisor import: %d", resp.StatusCode)
	}
	if got := info(); got.Count != 1 {
		t.Errorf("a refused import changed the table: %+v", got)
	}
	if got := strings.Join(eventTypes(events(sub)), " "); got != "regions.imported regions.imported" {
		t.Errorf("events = %s", got)
	}
	wantActions(t, ts.db, "regions.import")
}
