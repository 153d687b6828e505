package webui

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbox/ccbox/config/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// permissionTable renders every API route with its permission and the
// roles allowed, one line each: the reviewed contract of who may do what.
func permissionTable(s *Server) string {
	var b strings.Builder
	b.WriteString("# METHOD PATH  permission  roles allowed (generated from routes.go; go test ./webui -update)\n")
	for _, r := range s.apiRoutes() {
		var who []string
		if r.perm == PermPublic {
			who = []string{"anyone"}
		} else {
			for _, role := range roles() {
				if allows(role, r.perm) {
					who = append(who, string(role))
				}
			}
		}
		fmt.Fprintf(&b, "%-7s %-36s %-15s %s\n", r.method, r.path, r.perm, strings.Join(who, ","))
	}
	return b.String()
}

func TestPermissionTableGolden(t *testing.T) {
	ts := newTestServer(t)
	got := permissionTable(ts.Server)
	path := filepath.Join("testdata", "permissions.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./webui -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("permission table changed; review and run go test ./webui -update\n--- got\n%s--- want\n%s", got, want)
	}
}

// TestEveryRouteEveryRole calls every API route as an anonymous caller and
// as each role, and checks that the answer matches the permission table:
// 401 for anonymous on a non-public route, 403 "forbidden" for a role that
// lacks the permission, and never those for a role that has it.
func TestEveryRouteEveryRole(t *testing.T) {
	ts := newTestServer(t)
	sessions := map[string]session{"anonymous": {}}
	for _, r := range roles() {
		sessions[string(r)] = ts.login(t, string(r), testPassword)
	}
	for _, r := range ts.apiRoutes() {
		if r.path == "/api/v1/logout" {
			continue // checked last below: it ends the session the others use
		}
		for who, sess := range sessions {
			t.Run(r.method+" "+r.path+" as "+who, func(t *testing.T) {
				checkAccess(t, ts, r, who, sess)
			})
		}
	}
	for who, sess := range sessions {
		checkAccess(t, ts, route{method: http.MethodPost, path: "/api/v1/logout", perm: PermSignedIn}, who, sess)
	}
}

func checkAccess(t *testing.T, ts *testServer, r route, who string, sess session) {
	t.Helper()
	path := strings.NewReplacer(":name", "nobody", ":id", "no-such-token", "*", "cmdline").Replace(r.path)
	resp, body := ts.do(t, sess, r.method, path, []byte("{}"))
	code, _ := errorCode(body)
	denied := resp.StatusCode == http.StatusUnauthorized && code == "unauthenticated" ||
		resp.StatusCode == http.StatusForbidden && code == "forbidden"
	var allowed bool
	switch {
	case r.perm == PermPublic:
		allowed = true
	case who == "anonymous":
		allowed = false
	default:
		allowed = allows(store.Role(who), r.perm)
	}
	switch {
	case allowed && denied:
		t.Errorf("%s %s as %s: denied (%d %s), table allows", r.method, path, who, resp.StatusCode, body)
	case !allowed && !denied:
		t.Errorf("%s %s as %s: %d %s, table denies", r.method, path, who, resp.StatusCode, body)
	case !allowed && who == "anonymous" && resp.StatusCode != http.StatusUnauthorized:
		t.Errorf("%s %s anonymous: %d, want 401", r.method, path, resp.StatusCode)
	}
}
