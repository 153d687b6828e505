package webui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// decodeJSON reads a JSON request body strictly: an unknown field, a wrong
// type or trailing data is a 400 that names the field.
func decodeJSON(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(body) > maxJSON {
		return errTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errBadRequest("", "send a JSON object in the request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return errBadRequest(te.Field, fmt.Sprintf("%s must be a %s, not a JSON %s", te.Field, te.Type, te.Value))
		case errors.As(err, &se):
			return errBadRequest("", fmt.Sprintf("malformed JSON at byte %d", se.Offset))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			// encoding/json has no typed error for this; the field name is
			// the only thing taken from the message.
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errBadRequest(f, fmt.Sprintf("unknown field %q", f))
		}
		return errBadRequest("", "malformed JSON: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadRequest("", "unexpected data after the JSON object")
	}
	return nil
}
