package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one Cloche server with one credential: an API key (ck_…)
// or a user token.
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	userAgent string
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient sends requests through hc (default: a client with a 30s
// timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent names the host application in requests.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the server at baseURL (e.g.
// "http://127.0.0.1:8080") sending token as its credential.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: %q is not an http(s) URL", baseURL)
	}
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}, userAgent: "cloche-go-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Sentinel errors, matched by *Error with errors.Is.
var (
	ErrUnauthorized = errors.New("unauthorized")      // 401
	ErrForbidden    = errors.New("forbidden")         // 403
	ErrNotFound     = errors.New("not found")         // 404
	ErrConflict     = errors.New("conflict")          // 409
	ErrTooLarge     = errors.New("request too large") // 413
	ErrInvalid      = errors.New("invalid input")     // 400, 422
	ErrRateLimited  = errors.New("rate limited")      // 429
	ErrUnavailable  = errors.New("unavailable")       // 503
)

// Error is an error answer of the API.
type Error struct {
	Status     int            // HTTP status
	Code       string         `json:"code"`  // e.g. invalid_field
	Field      string         `json:"field"` // the input that is wrong, if one is
	Message    string         `json:"message"`
	Details    []FieldProblem `json:"details"` // every wrong field, when several are
	RequestID  string         `json:"request_id"`
	RetryAfter time.Duration  // from Retry-After, on 429 and 503
}

// FieldProblem is one wrong field.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("cloche: %d %s", e.Status, e.Code)
	if e.Field != "" {
		msg += ": " + e.Field
	}
	return msg + ": " + e.Message
}

// Is matches the sentinel of e's status.
func (e *Error) Is(target error) bool {
	switch e.Status {
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusConflict:
		return target == ErrConflict
	case http.StatusRequestEntityTooLarge:
		return target == ErrTooLarge
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return target == ErrInvalid
	case http.StatusTooManyRequests:
		return target == ErrRateLimited
	case http.StatusServiceUnavailable:
		return target == ErrUnavailable
	}
	return false
}

// call sends one request and decodes a JSON answer into out (when not
// nil). It returns the response's headers.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any, header map[string]string) (http.Header, error) {
	// path has its segments escaped already (seg).
	u := *c.base
	escaped := c.base.EscapedPath() + path
	u.Path, u.RawPath = escaped, ""
	if p, err := url.PathUnescape(escaped); err == nil && p != escaped {
		u.Path, u.RawPath = p, escaped
	}
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return resp.Header, decodeError(resp, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("client: %s %s: decode the answer: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

func decodeError(resp *http.Response, raw []byte) error {
	var body struct {
		Error Error `json:"error"`
	}
	e := &body.Error
	if err := json.Unmarshal(raw, &body); err != nil || e.Code == "" {
		e.Code, e.Message = "http_error", strings.TrimSpace(string(raw))
		if e.Message == "" {
			e.Message = resp.Status
		}
	}
	e.Status = resp.StatusCode
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// Page is one page of a list. Next, when not empty, is the cursor of the
// next page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// pageQuery adds cursor and limit to q.
func pageQuery(q url.Values, cursor string, limit int) url.Values {
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

func seg(s string) string { return url.PathEscape(s) }

func id64(id int64) string { return strconv.FormatInt(id, 10) }

// Health reports whether the server answers (GET /healthz).
func (c *Client) Health(ctx context.Context) error {
	_, err := c.call(ctx, "GET", "/healthz", nil, nil, nil, nil)
	return err
}

// Ready reports whether the server can serve: its database answers and is
// migrated (GET /readyz).
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.call(ctx, "GET", "/readyz", nil, nil, nil, nil)
	return err
}
