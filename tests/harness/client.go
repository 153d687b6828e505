package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// Names of the API's session contract.
const (
	// SessionCookie is the cookie that POST /api/v1/login sets.
	SessionCookie = "ccbox_session"
	// CSRFHeader carries the csrf_token of the login on every request made
	// with the session cookie.
	CSRFHeader = "X-CSRF-Token"
)

// requestTimeout bounds one API request.
const requestTimeout = 15 * time.Second

// maxBody bounds the response body the client reads.
const maxBody = 32 << 20

// Client talks to the appliance's JSON API as one person (session cookie
// and CSRF token after Login) or as automation (Token).
type Client struct {
	// HTTP is the underlying client: a cookie jar, TLS without certificate
	// checks (the box's certificate is self-signed), a 15 s timeout.
	HTTP *http.Client
	// BaseURL is where paths are resolved, such as http://127.0.0.1:8080.
	BaseURL string
	// Token, when set, is sent as "Authorization: Bearer <Token>" and the
	// CSRF header is left out.
	Token string
	// CSRF is the csrf_token of the last Login; Do sends it in the
	// X-CSRF-Token header. Clear it to test that the box demands it.
	CSRF string
	// User is the "user" object of the last Login.
	User json.RawMessage
}

// APIError is a response with a status of 400 or more, decoded from the
// error envelope {"error":{"code","message","field"}}. Tests inspect it with
// errors.As and compare Status and Code, never the message.
type APIError struct {
	Status  int
	Code    string
	Message string
	Field   string
	// Body is the raw response body, for a failure message.
	Body string
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
	}
	s := fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Code, e.Message)
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	return s
}

// NewClient returns a Client for the API at baseURL. Its idle connections
// are closed when the test ends.
func NewClient(t testing.TB, baseURL string) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = insecureTLS()
	c := &Client{
		HTTP:    &http.Client{Jar: jar, Transport: transport, Timeout: requestTimeout},
		BaseURL: strings.TrimRight(baseURL, "/"),
	}
	t.Cleanup(transport.CloseIdleConnections)
	return c
}

// Client returns a Client for the box's HTTP listener.
func (a *App) Client(t testing.TB) *Client {
	t.Helper()
	return NewClient(t, a.URL())
}

// HTTPSClient returns a Client for the box's HTTPS listener.
func (a *App) HTTPSClient(t testing.TB) *Client {
	t.Helper()
	return NewClient(t, a.HTTPSURL())
}

// Login posts the credentials to /api/v1/login and keeps the session cookie
// (in the jar), the CSRF token and the user. A refused login is an *APIError.
func (c *Client) Login(username, password string) error {
	var resp struct {
		User      json.RawMessage `json:"user"`
		CSRFToken string          `json:"csrf_token"`
	}
	body := map[string]string{"username": username, "password": password}
	if _, err := c.Do(http.MethodPost, "/api/v1/login", body, &resp); err != nil {
		return fmt.Errorf("login as %q: %w", username, err)
	}
	if resp.CSRFToken == "" {
		return fmt.Errorf("login as %q: the answer has no csrf_token", username)
	}
	c.CSRF = resp.CSRFToken
	c.User = resp.User
	return nil
}

// Do sends one request and returns the HTTP status. body, when not nil, is
// sent as JSON: an io.Reader or []byte as is, anything else through
// json.Marshal. On a 2xx answer with a body, out (when not nil) receives it:
// a *[]byte or *string gets the raw bytes, anything else is decoded from
// JSON. A status of 400 or more returns an *APIError along with the status.
func (c *Client) Do(method, path string, body, out any) (int, error) {
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		reader = b
	case []byte:
		reader = bytes.NewReader(b)
	default:
		data, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encode the body: %w", method, path, err)
		}
		reader = bytes.NewReader(data)
	}
	ctx, cancel := contextFor(requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, reader)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.CSRF != "":
		req.Header.Set(CSRFHeader, c.CSRF)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, decodeAPIError(resp.StatusCode, data))
	}
	if out == nil || len(data) == 0 {
		return resp.StatusCode, nil
	}
	switch o := out.(type) {
	case *[]byte:
		*o = data
	case *string:
		*o = string(data)
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode %q: %w", method, path, truncate(data, 300), err)
		}
	}
	return resp.StatusCode, nil
}

func decodeAPIError(status int, data []byte) *APIError {
	e := &APIError{Status: status, Body: truncate(data, 2000)}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &env) == nil {
		e.Code, e.Message, e.Field = env.Error.Code, env.Error.Message, env.Error.Field
	}
	return e
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
