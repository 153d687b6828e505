package webui

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ccbox/ccbox/config/store"
	"github.com/dgraph-io/badger/v4"
	"github.com/gofiber/fiber/v2"
)

// apiError is the one error shape of the API:
// {"error":{"code":"...","message":"...","field":"..."}}.
type apiError struct {
	Status     int       `json:"-"`
	Code       string    `json:"code"`
	Message    string    `json:"message"`
	Field      string    `json:"field,omitempty"`
	RetryAfter int       `json:"retry_after,omitempty"` // seconds, with 429
	Problems   []problem `json:"problems,omitempty"`    // every problem of a rejected document
}

// problem is one entry of a multi-problem rejection (configuration documents).
type problem struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Problem string `json:"problem"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errBadRequest(field, msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: field, Message: msg}
}

var (
	errUnauthenticated = &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "log in first"}
	errForbidden       = &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "your role does not allow this"}
	errBadCredentials  = &apiError{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: "wrong user name or password"}
	errCSRF            = &apiError{Status: http.StatusForbidden, Code: "csrf", Message: "missing or wrong X-CSRF-Token header"}
	errNotFound        = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such API route"}
	errTooLarge        = &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "request body too large"}
	errConflict        = &apiError{Status: http.StatusConflict, Code: "conflict", Message: "changed by someone else at the same time; try again"}
)

// errorHandler maps every error a handler returns to the API's error shape.
// It is the one place where internal errors become HTTP statuses.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var ae *apiError
		var fe *fiber.Error
		switch {
		case errors.As(err, &ae):
		case errors.Is(err, store.ErrNotFound):
			ae = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such object"}
		case errors.Is(err, badger.ErrConflict):
			ae = errConflict
		case errors.As(err, &fe):
			ae = fiberError(fe)
		default:
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
			ae = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; see the appliance log"}
		}
		if ae.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ae.RetryAfter))
		}
		return c.Status(ae.Status).JSON(fiber.Map{"error": ae})
	}
}

func fiberError(fe *fiber.Error) *apiError {
	switch fe.Code {
	case http.StatusNotFound:
		return &apiError{Status: fe.Code, Code: "not_found", Message: fe.Message}
	case http.StatusRequestEntityTooLarge:
		return errTooLarge
	case http.StatusMethodNotAllowed:
		return &apiError{Status: fe.Code, Code: "method_not_allowed", Message: fe.Message}
	}
	code := "invalid"
	if fe.Code >= 500 {
		code = "internal"
	}
	return &apiError{Status: fe.Code, Code: code, Message: fe.Message}
}
